package dfbmodels.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.ndarray.NDManager;
import ai.djl.training.dataset.Dataset;
import ai.djl.training.dataset.RandomAccessDataset;
import dfbmodels.FeedbackBlock;
import dfbmodels.models.ResNet18;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainMnistTest {

    /** Debian's dataset-fashion-mnist package installs the IDX files here. */
    private static final Path FASHION = Paths.get("/usr/share/datasets/fashion-mnist");

    @TempDir Path tmp;

    @Test
    void trainsOnAFashionMnistSubsetSavesReloadableParametersAndAChart() throws Exception {
        Assumptions.assumeTrue(
                Files.isRegularFile(FASHION.resolve("train-images-idx3-ubyte.gz")),
                "Fashion-MNIST not found in "
                        + FASHION
                        + " (apt-get install dataset-fashion-mnist); end-to-end test skipped");
        Options o =
                Options.parse(
                        "--dataset", "fashion-mnist",
                        "--data-dir", FASHION.toString(),
                        "--limit", "2000",
                        "--test-limit", "1000",
                        "--epochs", "1",
                        "--iterations", "3",
                        "--batch-size", "32",
                        "--max-eval-iterations", "3",
                        "--output", tmp.resolve("out").toString());
        TrainMnist.Result r = TrainMnist.run(o);
        System.out.printf(
                "end-to-end: Fashion-MNIST 2000 images, 1 epoch, T=3: test accuracy %.4f in %.0f s%n",
                r.testAccuracy, r.trainSeconds);
        // measured 0.65-0.68 (seed 42); a 10-class chance level is 0.1
        assertTrue(r.testAccuracy > 0.5, "test accuracy " + r.testAccuracy);
        assertEquals(r.testAccuracy, r.accuracyByIterations[2], 1e-6, "T=3 twice");

        // the saved parameters reload into a fresh model and classify the same way
        try (Model model = Model.newInstance(TrainMnist.MODEL_NAME)) {
            FeedbackBlock block =
                    ResNet18.builder()
                            .setNumClasses(10)
                            .optInChannels(1)
                            .optFbFilters(o.fbFilters)
                            .build();
            model.setBlock(block);
            model.load(r.output, TrainMnist.MODEL_NAME);
            NDManager manager = model.getNDManager();
            RandomAccessDataset test =
                    MnistData.load(o, manager, Dataset.Usage.TEST, 1000, tmp.resolve("data"));
            double reloaded = TrainMnist.accuracy(block, manager, test, 3);
            assertEquals(r.accuracyByIterations[2], reloaded, 1e-3);
        }

        BufferedImage chart = ImageIO.read(r.chart.toFile());
        assertEquals(1280, chart.getWidth());
        assertEquals(420, chart.getHeight());
    }

    @Test
    void missingFilesAreNamedWithWhereToPutThem() throws IOException {
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        Options o = Options.parse("--data-dir", empty.toString(), "--output", tmp.toString());
        IOException e = assertThrows(IOException.class, () -> TrainMnist.run(o));
        assertTrue(
                e.getMessage()
                        .startsWith(
                                "--data-dir "
                                        + empty.toAbsolutePath()
                                        + " lacks train-images-idx3-ubyte.gz,"
                                        + " train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz,"
                                        + " t10k-labels-idx1-ubyte.gz"),
                e.getMessage());
    }

    @Test
    void badOptionsAreExplained() {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> Options.parse("--epochs", "0"));
        assertEquals("--epochs must be a positive integer, got 0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Options.parse("--device", "tpu"));
        assertEquals("--device must be cpu or gpu, got tpu", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Options.parse("--colour", "red"));
        assertTrue(e.getMessage().startsWith("unknown option --colour\nUsage:"));
    }
}
