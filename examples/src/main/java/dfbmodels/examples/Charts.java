package dfbmodels.examples;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** The training report: loss and accuracy per epoch, and test accuracy as a function of T. */
final class Charts {

    static final int WIDTH = 640;
    static final int HEIGHT = 420;
    private static final BasicStroke DASHED =
            new BasicStroke(
                    1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 1f, new float[] {4f, 4f}, 0f);

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

        JFreeChart feedback = feedback(accuracyByIterations, trainedIterations);

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

    /**
     * Test accuracy as a function of T at evaluation, on an axis from 0 to 1 (with chance level
     * marked), so that a spread of a fraction of a point looks like one; the subtitle states the
     * spread in numbers.
     */
    static JFreeChart feedback(double[] accuracyByIterations, int trainedIterations) {
        XYSeries byT = new XYSeries("test accuracy");
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (int t = 0; t < accuracyByIterations.length; t++) {
            byT.add(t + 1, accuracyByIterations[t]);
            lo = Math.min(lo, accuracyByIterations[t]);
            hi = Math.max(hi, accuracyByIterations[t]);
        }
        JFreeChart chart =
                ChartFactory.createXYLineChart(
                        "Test accuracy vs. iterations T",
                        "iterations T at evaluation",
                        "test accuracy",
                        new XYSeriesCollection(byT),
                        PlotOrientation.VERTICAL,
                        false,
                        false,
                        false);
        chart.addSubtitle(new TextTitle(spread(accuracyByIterations, trainedIterations, lo, hi)));
        style(chart);
        XYPlot plot = chart.getXYPlot();
        ((NumberAxis) plot.getDomainAxis())
                .setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        NumberAxis accuracy = (NumberAxis) plot.getRangeAxis();
        accuracy.setRange(0, 1);
        ValueMarker chance = new ValueMarker(0.1, Color.GRAY, DASHED);
        chance.setLabel("chance (10 classes)");
        chance.setLabelAnchor(RectangleAnchor.TOP_RIGHT);
        chance.setLabelTextAnchor(TextAnchor.BOTTOM_RIGHT);
        plot.addRangeMarker(chance);
        return chart;
    }

    private static String spread(double[] accuracy, int trainedIterations, double lo, double hi) {
        return String.format(
                Locale.ROOT,
                "trained with T=%d; over T=1..%d: %.2f%% to %.2f%% (spread %.2f points)",
                trainedIterations,
                accuracy.length,
                100 * lo,
                100 * hi,
                100 * (hi - lo));
    }

    static void style(JFreeChart chart) {
        chart.setBackgroundPaint(Color.WHITE);
        XYPlot plot = chart.getXYPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        plot.setRenderer(new XYLineAndShapeRenderer(true, true));
    }
}
