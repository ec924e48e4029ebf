package dfbmodels.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.title.Title;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChartsTest {

    @TempDir Path tmp;

    /** Room for a title inside one panel: the panel less JFreeChart's default insets. */
    private static void assertFitsOnOneLine(TextTitle title) {
        BufferedImage image = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            FontMetrics metrics = g.getFontMetrics(title.getFont());
            int width = metrics.stringWidth(title.getText());
            assertTrue(
                    width < Charts.WIDTH - 40,
                    "\"" + title.getText() + "\" is " + width + " px wide at its default font");
        } finally {
            g.dispose();
        }
    }

    @Test
    void accuracyByTIsPlottedFromZeroToOneWithItsSpreadStated() {
        // a 0.2-point spread, as measured on Fashion-MNIST
        double[] accuracy = {0.5512, 0.5530, 0.5520, 0.5510, 0.5515};
        JFreeChart chart = Charts.feedback(accuracy, 5);
        NumberAxis axis = (NumberAxis) chart.getXYPlot().getRangeAxis();
        assertEquals(0, axis.getLowerBound());
        assertEquals(1, axis.getUpperBound());
        assertEquals("Test accuracy vs. iterations T", chart.getTitle().getText());
        assertFitsOnOneLine(chart.getTitle());
        assertEquals(1, chart.getSubtitleCount());
        Title subtitle = chart.getSubtitle(0);
        assertEquals(
                "trained with T=5; over T=1..5: 55.10% to 55.30% (spread 0.20 points)",
                ((TextTitle) subtitle).getText());
        assertFitsOnOneLine((TextTitle) subtitle);
        // the longest: T in two digits, 100%
        double[] ten = new double[10];
        java.util.Arrays.fill(ten, 1.0);
        ten[0] = 0.1;
        assertFitsOnOneLine((TextTitle) Charts.feedback(ten, 10).getSubtitle(0));
    }

    @Test
    void writesBothPanelsSideBySide() throws Exception {
        Path file = tmp.resolve("training.png");
        Charts.write(
                file,
                List.of(0.9f, 0.5f),
                List.of(0.7f, 0.8f),
                List.of(0.75f, 0.82f),
                new double[] {0.81, 0.82, 0.82},
                3);
        BufferedImage image = ImageIO.read(file.toFile());
        assertEquals(2 * Charts.WIDTH, image.getWidth());
        assertEquals(Charts.HEIGHT, image.getHeight());
    }
}
