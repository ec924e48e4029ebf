package dfbmodels.examples;

import dfbmodels.eval.ConvergenceTrace;
import dfbmodels.eval.RobustnessTable;
import java.awt.Graphics2D;
import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** The charts of {@link Robustness}: accuracy under corruption, and convergence of the state. */
final class RobustnessCharts {

    private RobustnessCharts() {}

    /**
     * Accuracy vs. corruption level, one panel per corruption (two per row, in the table's order),
     * one line per model and T.
     *
     * @param file the PNG to write: {@code 2·WIDTH × rows·HEIGHT}
     * @param table the evaluation
     * @throws IOException if the file cannot be written
     */
    static void accuracy(Path file, RobustnessTable table) throws IOException {
        Map<String, Map<String, XYSeries>> panels = new LinkedHashMap<>();
        for (RobustnessTable.Row r : table.getRows()) {
            String line =
                    r.model().equals("feedforward")
                            ? r.model()
                            : r.model() + " T=" + r.iterations();
            panels.computeIfAbsent(r.corruption(), c -> new LinkedHashMap<>())
                    .computeIfAbsent(line, l -> new XYSeries(l, true, false))
                    .add(r.level(), r.value());
        }
        List<JFreeChart> charts = new ArrayList<>();
        for (Map.Entry<String, Map<String, XYSeries>> panel : panels.entrySet()) {
            XYSeriesCollection lines = new XYSeriesCollection();
            panel.getValue().values().forEach(lines::addSeries);
            JFreeChart chart =
                    ChartFactory.createXYLineChart(
                            "Test accuracy under " + panel.getKey().replace('_', ' '),
                            levelName(panel.getKey()),
                            table.getMetric(),
                            lines,
                            PlotOrientation.VERTICAL,
                            true,
                            false,
                            false);
            Charts.style(chart);
            ((NumberAxis) chart.getXYPlot().getRangeAxis()).setRange(0, 1);
            charts.add(chart);
        }
        draw(file, charts);
    }

    /**
     * The convergence of one forward per image: the relative change {@code |h_t − h_(t−1)| / |h_t|}
     * (log scale) and {@code sum|h_t|} against the step t.
     *
     * @param file the PNG to write: {@code 2·WIDTH × HEIGHT}
     * @param traces one trace per image
     * @throws IOException if the file cannot be written
     */
    static void convergence(Path file, List<ConvergenceTrace> traces) throws IOException {
        XYSeriesCollection changes = new XYSeriesCollection();
        XYSeriesCollection sums = new XYSeriesCollection();
        for (int i = 0; i < traces.size(); i++) {
            ConvergenceTrace trace = traces.get(i);
            XYSeries change = new XYSeries("image " + i);
            XYSeries sum = new XYSeries("image " + i);
            double[] c = trace.getRelativeChanges();
            double[] s = trace.getStateSums();
            for (int t = 0; t < trace.getSteps(); t++) {
                if (c[t] > 0 && Double.isFinite(c[t])) {
                    change.add(t + 1, c[t]);
                }
                sum.add(t + 1, s[t]);
            }
            changes.addSeries(change);
            sums.addSeries(sum);
        }
        JFreeChart left =
                ChartFactory.createXYLineChart(
                        "State change per step",
                        "step t",
                        "|h_t - h_(t-1)| / |h_t|",
                        changes,
                        PlotOrientation.VERTICAL,
                        true,
                        false,
                        false);
        Charts.style(left);
        LogAxis log = new LogAxis("|h_t - h_(t-1)| / |h_t| (log scale)");
        left.getXYPlot().setRangeAxis(log);
        JFreeChart right =
                ChartFactory.createXYLineChart(
                        "State size per step",
                        "step t",
                        "sum |h_t|",
                        sums,
                        PlotOrientation.VERTICAL,
                        true,
                        false,
                        false);
        Charts.style(right);
        for (JFreeChart chart : List.of(left, right)) {
            ((NumberAxis) chart.getXYPlot().getDomainAxis())
                    .setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        }
        draw(file, List.of(left, right));
    }

    private static String levelName(String corruption) {
        switch (corruption) {
            case "gaussian_noise":
                return "noise sigma (images in [0, 1])";
            case "salt_and_pepper":
                return "fraction of pixels replaced";
            case "gaussian_blur":
                return "blur sigma (pixels)";
            case "contrast":
                return "remaining contrast (1 = unchanged)";
            default:
                return "level";
        }
    }

    private static void draw(Path file, List<JFreeChart> charts) throws IOException {
        int rows = (charts.size() + 1) / 2;
        BufferedImage image =
                new BufferedImage(
                        2 * Charts.WIDTH, rows * Charts.HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setColor(java.awt.Color.WHITE);
            g.fillRect(0, 0, image.getWidth(), image.getHeight());
            for (int i = 0; i < charts.size(); i++) {
                charts.get(i)
                        .draw(
                                g,
                                new Rectangle(
                                        (i % 2) * Charts.WIDTH,
                                        (i / 2) * Charts.HEIGHT,
                                        Charts.WIDTH,
                                        Charts.HEIGHT));
            }
        } finally {
            g.dispose();
        }
        ImageIO.write(image, "png", file.toFile());
    }
}
