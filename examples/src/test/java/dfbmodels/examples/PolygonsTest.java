package dfbmodels.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import dfbmodels.FeedbackBlock;
import dfbmodels.state.TimeFactor;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Assumptions;
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
                        "--low-data", "2",
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
        assertTrue(lines.get(8).startsWith("low-data,feedback,2,1.0,1.0,1,"), lines.get(8));
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
    void gpuWithoutAGpuIsExplainedBeforeAnythingIsWritten() {
        Assumptions.assumeTrue(Engine.getInstance().getGpuCount() == 0, "a GPU is visible");
        java.nio.file.Path out = tmp.resolve("out");
        PolygonsOptions o = PolygonsOptions.parse("--device", "gpu", "--output", out.toString());
        assertEquals(
                "--device gpu: LibTorch sees no GPU here (build with -Dcuda for the CUDA"
                        + " LibTorch); use --device cpu",
                assertThrows(IllegalArgumentException.class, () -> Polygons.run(o)).getMessage());
        assertFalse(Files.exists(out), "no output folder");
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
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> PolygonsOptions.parse("--size", "32", "--train", "4"));
        assertEquals(
                "--size 32 cannot train on batches of one image (the encoder's deepest layer is"
                        + " 1x1, and BatchNorm needs more than one value per channel), got"
                        + " --batch-size 2, --train 4, --low-data 1,2,4,8,16; use --size 64 or"
                        + " larger, or --batch-size, --train and every --low-data size >= 2",
                e.getMessage());
        assertEquals(
                32,
                PolygonsOptions.parse("--size", "32", "--low-data", "2,4", "--train", "3").size);
        e = assertThrows(IllegalArgumentException.class, () -> PolygonsOptions.parse("--help"));
        assertTrue(e.getMessage().startsWith("Usage: Polygons [options]"));
        assertEquals(0, PolygonsOptions.parse("--low-data", "none").lowData.length);
    }

    @Test
    void everyModelAndTrainingOptionReachesTheRun() throws Exception {
        PolygonsOptions o =
                PolygonsOptions.parse(
                        "--size", "64",
                        "--train", "1",
                        "--sigma", "2",
                        "--steps", "2",
                        "--batch-size", "1",
                        "--lr", "0.001",
                        "--deep-supervision", "false",
                        "--test", "1",
                        "--sigmas", "2",
                        "--iterations", "2",
                        "--low-data", "none",
                        "--layers", "1,1,1,1",
                        "--fb-filters", "3",
                        "--class-filters", "5",
                        "--tau", "1",
                        "--time-exponent", "1",
                        "--device", "cpu",
                        "--seed", "7",
                        "--output", tmp.toString());
        assertEquals(1e-3f, o.learningRate);
        assertEquals(1, o.batchSize);
        assertEquals(7, o.seed);
        assertEquals("cpu", o.device);
        // the models the run trains: 3 feedback and 5 class channels, tau 1, no time factor, no
        // per-step readouts (plain cross-entropy on the last step)
        FeedbackBlock model = Polygons.build(o, true);
        assertEquals(3, model.getFeedbackChannels());
        assertEquals(5, model.getClassChannels());
        assertSame(TimeFactor.NONE, model.getTimeFactor());
        assertTrue(model.isFeedback());
        assertFalse(Polygons.build(o, false).isFeedback());
        try (NDManager m = NDManager.newBaseManager()) {
            model.initialize(m, DataType.FLOAT32, new Shape(1, 3, 64, 64));
            assertEquals(1f, model.getStateOp().getParameters().get("tau").getArray().getFloat());
            NDList out =
                    model.forward(
                            new ParameterStore(m, false),
                            new NDList(m.zeros(new Shape(1, 3, 64, 64))),
                            false);
            assertEquals(1, out.size(), "no per-step readouts without deep supervision");
        }
        // the training images: image 0 of seed 7 at sigma 2, batches of 1
        dfbmodels.data.Polygons train = Polygons.trainSet(o, 1);
        assertEquals(2f, train.getSigma());
        assertEquals(1, train.size());

        Polygons.Result r = Polygons.run(o);

        List<String> lines = Files.readAllLines(r.csv);
        assertEquals("polygons.csv", r.csv.getFileName().toString());
        // header, 2 feedback steps + feedforward at sigma 2, background; no low-data rows
        assertEquals(1 + 3 + 1, lines.size(), String.join("\n", lines));
        assertTrue(lines.get(1).startsWith("noise,feedback,1,2.0,2.0,0,"), lines.get(1));
        assertTrue(lines.get(2).startsWith("noise,feedback,1,2.0,2.0,1,"), lines.get(2));
        assertTrue(lines.get(3).startsWith("noise,feedforward,1,2.0,2.0,0,"), lines.get(3));
        assertEquals(0, r.lowDataSizes.length);
        // without the low-data experiment the charts hold the noise panel only
        assertEquals(640, ImageIO.read(r.charts.toFile()).getWidth());
        // the figure's truth column is the test polygon of seed 7, not of the default seed 42
        int[] mask = Polygons.testSet(o, 2f).mask(0);
        PolygonsOptions defaultSeed = PolygonsOptions.parse("--size", "64");
        assertFalse(Arrays.equals(mask, Polygons.testSet(defaultSeed, 2f).mask(0)));
        // 64x64 images drawn 2x
        BufferedImage figure = ImageIO.read(r.figure.toFile());
        assertEquals(64 + (128 + 4) + 8, figure.getHeight());
        int truthX = 56 + 5 * (128 + 4);
        for (int p = 0; p < mask.length; p += 37) {
            int y = 64 + (p / 64) * 2;
            int x = truthX + (p % 64) * 2;
            assertEquals(
                    PolygonsFigure.plasma(mask[p]),
                    figure.getRGB(x, y) & 0xFFFFFF,
                    "truth pixel " + p);
        }
    }
}
