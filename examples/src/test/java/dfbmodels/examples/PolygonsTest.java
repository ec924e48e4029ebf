package dfbmodels.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolygonsTest {

    @TempDir java.nio.file.Path tmp;

    @Test
    void writesTheFigureTheTableAndTheChartsOfASmallRun() throws Exception {
        PolygonsOptions o =
                PolygonsOptions.parse(
                        "--size", "32",
                        "--train", "2",
                        "--steps", "2",
                        "--test", "2",
                        "--sigmas", "0,3",
                        "--iterations", "2",
                        "--low-data", "1",
                        "--layers", "1,1,1,1",
                        "--output", tmp.toString());
        Polygons.Result r = Polygons.run(o);

        // the figure: 2 rows (sigma 0, 3), columns input, initial, t=0, t=1, ff, truth; 32x32
        // images drawn 4x
        BufferedImage figure = ImageIO.read(r.figure.toFile());
        assertEquals(56 + 6 * (128 + 4), figure.getWidth());
        assertEquals(64 + 2 * (128 + 4) + 8, figure.getHeight());
        // the truth column shows the test polygon 0 (row 0) in plasma(1), background in plasma(0)
        int[] mask = Polygons.testSet(o, 0f).mask(0);
        int truthX = 56 + 5 * (128 + 4);
        for (int p = 0; p < mask.length; p += 37) {
            int y = 64 + (p / 32) * 4 + 1;
            int x = truthX + (p % 32) * 4 + 1;
            int want = PolygonsFigure.plasma(mask[p]);
            assertEquals(want, figure.getRGB(x, y) & 0xFFFFFF, "truth pixel " + p);
        }

        // the table: header, 2 sigmas x (2 feedback steps + feedforward), background, low data
        List<String> lines = Files.readAllLines(r.csv);
        assertEquals(1 + 2 * 3 + 1 + 2, lines.size(), String.join("\n", lines));
        assertEquals(
                "experiment,model,train_images,train_sigma,sigma,t,mean_iou,polygon_iou,"
                        + "polygon_dice,pixel_accuracy",
                lines.get(0));
        assertTrue(lines.get(1).startsWith("noise,feedback,2,1.0,0.0,0,"), lines.get(1));
        assertTrue(lines.get(3).startsWith("noise,feedforward,2,1.0,0.0,0,"), lines.get(3));
        assertTrue(lines.get(8).startsWith("low-data,feedback,1,1.0,1.0,1,"), lines.get(8));
        for (String line : lines.subList(1, lines.size())) {
            String[] f = line.split(",");
            for (int k = 6; k < 10; k++) {
                double v = Double.parseDouble(f[k]);
                assertTrue(v >= 0 && v <= 1, line);
            }
        }
        // predicting background everywhere: polygon IoU 0, pixel accuracy = background share
        String[] bg = lines.get(7).split(",");
        assertEquals("all-background", bg[1]);
        assertEquals(0.0, Double.parseDouble(bg[7]));
        assertEquals(r.backgroundMeanIoU, Double.parseDouble(bg[6]), 1e-4);
        assertEquals(r.feedbackIoU[1][1], Double.parseDouble(lines.get(5).split(",")[7]), 1e-4);

        BufferedImage charts = ImageIO.read(r.charts.toFile());
        assertEquals(1280, charts.getWidth());
        assertEquals(420, charts.getHeight());
    }

    @Test
    void badOptionsAreExplained() {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> PolygonsOptions.parse("--size", "50"));
        assertEquals(
                "--size must be a multiple of 32 (the U-Net halves it 5 times), got 50; nearest: 32"
                        + " or 64",
                e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> PolygonsOptions.parse("--layers", "1,2,3"));
        assertEquals(
                "--layers needs 4 comma-separated positive integers, got 1,2,3", e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> PolygonsOptions.parse("--sigmas", "0,-1"));
        assertEquals("--sigmas must be a number >= 0, got -1", e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> PolygonsOptions.parse("--deep-supervision", "yes"));
        assertEquals("--deep-supervision must be true or false, got yes", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> PolygonsOptions.parse("--help"));
        assertTrue(e.getMessage().startsWith("Usage: Polygons [options]"));
        assertEquals(0, PolygonsOptions.parse("--low-data", "none").lowData.length);
    }
}
