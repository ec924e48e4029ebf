package dfbmodels.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dfbmodels.FeedbackBlock;
import dfbmodels.eval.ConvergenceTrace;
import dfbmodels.io.TorchNames;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Robustness end to end on real files (tiny subsets, 1 epoch), the twin's parameters, and the
 * options' errors.
 */
class RobustnessTest {

    @TempDir Path tmp;

    /**
     * Checks every cell of the CSV: the feedback model at every T, the twin at T = 1, for every
     * corruption level; values in [0, 1]; and both charts.
     */
    private static void assertOutputs(Robustness.Result r, RobustnessOptions o) throws Exception {
        List<String> lines = Files.readAllLines(r.csv);
        assertEquals("model,corruption,level,iterations,accuracy", lines.get(0));
        Map<String, float[]> levels =
                Map.of(
                        "gaussian_noise", o.sigmas,
                        "salt_and_pepper", Robustness.SALT_AND_PEPPER,
                        "gaussian_blur", Robustness.BLUR,
                        "contrast", Robustness.CONTRAST);
        Set<String> expected = new HashSet<>();
        for (Map.Entry<String, float[]> c : levels.entrySet()) {
            for (float level : c.getValue()) {
                for (int t : o.iterations) {
                    expected.add("feedback," + c.getKey() + "," + level + "," + t);
                }
                expected.add("feedforward," + c.getKey() + "," + level + ",1");
            }
        }
        Set<String> found = new HashSet<>();
        for (String line : lines.subList(1, lines.size())) {
            String[] cells = line.split(",");
            assertEquals(5, cells.length, line);
            float accuracy = Float.parseFloat(cells[4]);
            assertTrue(accuracy >= 0 && accuracy <= 1, line);
            assertTrue(
                    found.add(
                            cells[0]
                                    + ","
                                    + cells[1]
                                    + ","
                                    + Float.parseFloat(cells[2])
                                    + ","
                                    + cells[3]),
                    "a cell twice: " + line);
        }
        assertEquals(expected, found);
        assertEquals(expected.size(), r.table.getRows().size());

        BufferedImage robustness = ImageIO.read(r.robustnessChart.toFile());
        assertEquals(2 * Charts.WIDTH, robustness.getWidth());
        assertEquals(2 * Charts.HEIGHT, robustness.getHeight(), "4 corruptions, 2 per row");
        BufferedImage convergence = ImageIO.read(r.convergenceChart.toFile());
        assertEquals(2 * Charts.WIDTH, convergence.getWidth());
        assertEquals(Charts.HEIGHT, convergence.getHeight());
        assertEquals(o.base.output.resolve("robustness.csv"), r.csv);

        // 4 images, 20 steps each (early stop is off), the state settling: the relative change
        // falls from 1 at step 1
        assertEquals(4, r.traces.size());
        for (ConvergenceTrace trace : r.traces) {
            assertEquals(20, trace.getSteps());
            assertEquals(-1, trace.getEarlyStopStep());
            double[] change = trace.getRelativeChanges();
            assertEquals(1.0, change[0], 1e-9);
            assertTrue(change[19] < change[1], "relative changes " + trace);
        }
    }

    @Test
    void runsEndToEndOnFashionMnist() throws Exception {
        RobustnessOptions o =
                RobustnessOptions.parse(
                        "--data-dir", RealData.fashion().toString(),
                        "--limit", "64",
                        "--test-limit", "16",
                        "--batch-size", "32",
                        "--epochs", "1",
                        "--sigmas", "0,0.3",
                        "--iterations", "1,3",
                        "--output", tmp.resolve("out").toString());
        assertEquals("fashion-mnist", o.base.dataset, "the default");
        assertEquals(5, o.base.iterations, "training T, the default");
        Robustness.Result r = Robustness.run(o);
        assertOutputs(r, o);
        String summary = Robustness.summary(r.table, o);
        assertTrue(summary.startsWith("Gaussian noise: test accuracy"), summary);
        assertEquals(4, summary.strip().split("\n").length, summary);
    }

    @Test
    void runsEndToEndOnMnistWithEveryModelOption() throws Exception {
        RobustnessOptions o =
                RobustnessOptions.parse(
                        "--dataset", "mnist",
                        "--data-dir", RealData.mnist().toString(),
                        "--limit", "48",
                        "--test-limit", "16",
                        "--batch-size", "16",
                        "--epochs", "1",
                        "--train-iterations", "2",
                        "--iterations", "2,1",
                        "--sigmas", "0.1",
                        "--stem", "imagenet",
                        "--width", "8",
                        "--fb-filters", "8",
                        "--tau", "2",
                        "--lr", "0.002",
                        "--lr-schedule", "constant",
                        "--device", "cpu",
                        "--seed", "7",
                        "--output", tmp.resolve("mnist").toString());
        assertEquals(2, o.base.iterations);
        assertEquals("constant", o.base.lrSchedule);
        Robustness.Result r = Robustness.run(o);
        assertOutputs(r, o);
    }

    @Test
    void theTwinHasTheFeedbackModelsParametersAndStartsFromItsWeights() {
        // the example's default model
        Options o = RobustnessOptions.parse().base;
        try (NDManager m = NDManager.newBaseManager()) {
            FeedbackBlock feedback = o.model(true).build();
            FeedbackBlock twin = o.model(false).build();
            Shape in = new Shape(2, 1, 28, 28);
            feedback.initialize(m, DataType.FLOAT32, in);
            twin.initialize(m, DataType.FLOAT32, in);
            Map<String, Parameter> a = TorchNames.of(feedback);
            Map<String, Parameter> b = TorchNames.of(twin);
            assertEquals(a.keySet(), b.keySet());
            // the class path: stem, layer1..layer4, fc
            for (String name :
                    List.of(
                            "conv1.weight",
                            "bn1.running_mean",
                            "layer1.0.conv1.weight",
                            "layer4.1.bn2.weight",
                            "fc.weight",
                            "fc.bias")) {
                assertTrue(a.containsKey(name), name);
            }
            assertEquals(new Shape(16, 1, 3, 3), a.get("conv1.weight").getShape());
            assertEquals(new Shape(10, 128), a.get("fc.weight").getShape());
            for (String name : a.keySet()) {
                assertEquals(a.get(name).getShape(), b.get(name).getShape(), name);
            }
            Robustness.copyParameters(feedback, twin);
            for (String name : a.keySet()) {
                NDArray x = a.get(name).getArray();
                NDArray y = b.get(name).getArray();
                assertEquals(0f, x.sub(y).abs().max().getFloat(), name);
            }
            // with the same weights the twin computes the feedback model's first step
            NDArray x = m.randomUniform(0, 1, in);
            PairList<String, Object> one = new PairList<>();
            one.add(FeedbackBlock.ITERATIONS, 1);
            ParameterStore ps = new ParameterStore(m, false);
            NDArray ff = twin.forward(ps, new NDList(x), false, one).head();
            NDArray fb = feedback.forward(ps, new NDList(x), false, one).head();
            assertEquals(0f, ff.sub(fb).abs().max().getFloat(), 1e-5f);
        }
    }

    @Test
    void badOptionsAreExplained() {
        String[][] cases = {
            {
                "--sigmas",
                "0,-0.1",
                "--sigmas must be a comma-separated list of numbers in [0, 10], got 0,-0.1 (-0.1)"
            },
            {
                "--sigmas",
                "0,,1",
                "--sigmas must be a comma-separated list of numbers in [0, 10], got 0,,1 ()"
            },
            {
                "--iterations",
                "1,0",
                "--iterations must be a comma-separated list of integers in 1..100, got 1,0 (0)"
            },
            {
                "--iterations",
                "1,x",
                "--iterations must be a comma-separated list of integers in 1..100, got 1,x (x)"
            },
            {"--train-iterations", "0", "--train-iterations must be a positive integer, got 0"},
            {"--stem", "resnet", "--stem must be cifar or imagenet, got resnet"},
            {"--width", "-16", "--width must be a positive integer, got -16"},
            {"--epochs", "zero", "--epochs must be a positive integer, got zero"},
        };
        for (String[] c : cases) {
            IllegalArgumentException e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> RobustnessOptions.parse(c[0], c[1]));
            assertEquals(c[2], e.getMessage());
        }
        // TrainMnist's own evaluation option is not one of Robustness's
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> RobustnessOptions.parse("--max-eval-iterations", "3"));
        assertEquals(
                "unknown option --max-eval-iterations\n" + RobustnessOptions.USAGE, e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> RobustnessOptions.parse("--help"));
        assertEquals(RobustnessOptions.USAGE, e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> RobustnessOptions.parse("--sigmas"));
        assertEquals("option --sigmas needs a value\n" + RobustnessOptions.USAGE, e.getMessage());
    }
}
