package dfbmodels.examples;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** The training report: loss and accuracy per epoch, and test accuracy as a function of T. */
final class Charts {

    private static final int WIDTH = 640;
    private static final int HEIGHT = 420;

    private Charts() {}

    static void write(
            Path file,
            List<Float> trainLoss,
            List<Float> trainAccuracy,
            List<Float> testAccuracy,
            double[] accuracyByIterations,
            int trainedIterations)
            throws IOException {
        XYSeries loss = new XYSeries("train loss");
        XYSeries trainAcc = new XYSeries("train accuracy");
        XYSeries testAcc = new XYSeries("test accuracy");
        for (int e = 0; e < trainLoss.size(); e++) {
            loss.add(e + 1, trainLoss.get(e));
            trainAcc.add(e + 1, trainAccuracy.get(e));
            testAcc.add(e + 1, testAccuracy.get(e));
        }
        XYSeriesCollection curves = new XYSeriesCollection();
        curves.addSeries(loss);
        curves.addSeries(trainAcc);
        curves.addSeries(testAcc);
        JFreeChart training =
                ChartFactory.createXYLineChart(
                        "Training",
                        "epoch",
                        "loss / accuracy",
                        curves,
                        PlotOrientation.VERTICAL,
                        true,
                        false,
                        false);
        style(training);
        ((NumberAxis) training.getXYPlot().getDomainAxis())
                .setStandardTickUnits(NumberAxis.createIntegerTickUnits());

        XYSeries byT = new XYSeries("test accuracy");
        for (int t = 0; t < accuracyByIterations.length; t++) {
            byT.add(t + 1, accuracyByIterations[t]);
        }
        JFreeChart feedback =
                ChartFactory.createXYLineChart(
                        "Test accuracy vs. feedback iterations (trained with T="
                                + trainedIterations
                                + ")",
                        "iterations T at evaluation",
                        "test accuracy",
                        new XYSeriesCollection(byT),
                        PlotOrientation.VERTICAL,
                        false,
                        false,
                        false);
        style(feedback);
        NumberAxis tAxis = (NumberAxis) feedback.getXYPlot().getDomainAxis();
        tAxis.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        double lo = 1;
        double hi = 0;
        for (double a : accuracyByIterations) {
            lo = Math.min(lo, a);
            hi = Math.max(hi, a);
        }
        NumberAxis accuracyAxis = (NumberAxis) feedback.getXYPlot().getRangeAxis();
        accuracyAxis.setRange(Math.max(0, lo - 0.02), Math.min(1, hi + 0.02));
        accuracyAxis.setNumberFormatOverride(new java.text.DecimalFormat("0.000"));

        BufferedImage image = new BufferedImage(2 * WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            training.draw(g, new java.awt.Rectangle(0, 0, WIDTH, HEIGHT));
            feedback.draw(g, new java.awt.Rectangle(WIDTH, 0, WIDTH, HEIGHT));
        } finally {
            g.dispose();
        }
        ImageIO.write(image, "png", file.toFile());
    }

    private static void style(JFreeChart chart) {
        chart.setBackgroundPaint(Color.WHITE);
        XYPlot plot = chart.getXYPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        plot.setRenderer(new XYLineAndShapeRenderer(true, true));
    }
}
