package dfbmodels.examples;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.text.DecimalFormat;
import javax.imageio.ImageIO;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** The polygon experiment's charts: polygon IoU against noise, and against training-set size. */
final class PolygonsCharts {

    private static final int WIDTH = 640;
    private static final int HEIGHT = 420;

    private PolygonsCharts() {}

    /**
     * Writes one PNG: IoU vs sigma (left) and, if {@code trainSizes} is not empty, IoU vs the
     * number of training images (right).
     */
    static void write(
            Path file,
            float[] sigmas,
            double[] feedback,
            double[] feedforward,
            float trainSigma,
            int iterations,
            int[] trainSizes,
            double[] lowFeedback,
            double[] lowFeedforward)
            throws IOException {
        XYSeries fb = new XYSeries("feedback U-Net, t=" + (iterations - 1));
        XYSeries ff = new XYSeries("feedforward U-Net");
        for (int i = 0; i < sigmas.length; i++) {
            fb.add(sigmas[i], feedback[i]);
            ff.add(sigmas[i], feedforward[i]);
        }
        JFreeChart noise =
                chart(
                        "Polygon IoU vs. noise (trained at σ=" + trainSigma + ")",
                        "noise σ at test time",
                        fb,
                        ff);
        boolean low = trainSizes.length > 0;
        BufferedImage image =
                new BufferedImage((low ? 2 : 1) * WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            noise.draw(g, new Rectangle(0, 0, WIDTH, HEIGHT));
            if (low) {
                XYSeries lfb = new XYSeries("feedback U-Net, t=" + (iterations - 1));
                XYSeries lff = new XYSeries("feedforward U-Net");
                for (int i = 0; i < trainSizes.length; i++) {
                    lfb.add(trainSizes[i], lowFeedback[i]);
                    lff.add(trainSizes[i], lowFeedforward[i]);
                }
                JFreeChart data =
                        chart(
                                "Polygon IoU vs. training images (σ=" + trainSigma + ")",
                                "training images",
                                lfb,
                                lff);
                ValueAxis linear = data.getXYPlot().getDomainAxis();
                LogAxis axis = new LogAxis("training images");
                axis.setLabelFont(linear.getLabelFont());
                axis.setTickLabelFont(linear.getTickLabelFont());
                axis.setBase(2);
                axis.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
                axis.setNumberFormatOverride(new DecimalFormat("0"));
                axis.setSmallestValue(0.5);
                data.getXYPlot().setDomainAxis(axis);
                data.draw(g, new Rectangle(WIDTH, 0, WIDTH, HEIGHT));
            }
        } finally {
            g.dispose();
        }
        ImageIO.write(image, "png", file.toFile());
    }

    private static JFreeChart chart(String title, String xLabel, XYSeries a, XYSeries b) {
        XYSeriesCollection data = new XYSeriesCollection();
        data.addSeries(a);
        data.addSeries(b);
        JFreeChart chart =
                ChartFactory.createXYLineChart(
                        title,
                        xLabel,
                        "polygon IoU (test)",
                        data,
                        PlotOrientation.VERTICAL,
                        true,
                        false,
                        false);
        chart.setBackgroundPaint(Color.WHITE);
        XYPlot plot = chart.getXYPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        plot.setRenderer(new XYLineAndShapeRenderer(true, true));
        ((NumberAxis) plot.getRangeAxis()).setRange(0, 1);
        return chart;
    }
}
