package dfbmodels.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.TrainingResult;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.dataset.BatchSampler;
import ai.djl.training.dataset.Dataset;
import ai.djl.training.dataset.RandomAccessDataset;
import ai.djl.training.dataset.SequenceSampler;
import ai.djl.util.Pair;
import dfbmodels.FeedbackBlock;
import dfbmodels.models.ResNet18;
import dfbmodels.models.ResNetStem;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's training example, run as written on a few real images. */
class QuickStartTest {

    @TempDir Path tmp;

    @Test
    void readsTheSameImagesAsDjlsFashionMnist() throws Exception {
        Path dir = RealData.fashion();
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray images =
                    QuickStart.idx(
                            manager, dir.resolve("train-images-idx3-ubyte.gz"), 16, 32, 1, 28, 28);
            NDArray labels =
                    QuickStart.idx(manager, dir.resolve("train-labels-idx1-ubyte.gz"), 8, 32);
            RandomAccessDataset djl =
                    MnistData.load("fashion-mnist", dir, manager, Dataset.Usage.TRAIN, 32, 32);
            // DJL's, in file order
            ArrayDataset ordered =
                    new ArrayDataset.Builder()
                            .setData(images.div(255))
                            .optLabels(labels)
                            .setSampling(new BatchSampler(new SequenceSampler(), 32))
                            .build();
            var expected =
                    djl.getData(manager, new BatchSampler(new SequenceSampler(), 32))
                            .iterator()
                            .next();
            var actual = ordered.getData(manager).iterator().next();
            assertEquals(new Shape(32, 1, 28, 28), actual.getData().head().getShape());
            assertArrayEquals(
                    expected.getData().head().toFloatArray(),
                    actual.getData().head().toFloatArray(),
                    1e-7f);
            assertArrayEquals(
                    expected.getLabels().head().toFloatArray(),
                    actual.getLabels().head().toFloatArray());
        }
    }

    @Test
    void trainsOnAFewImagesAndSavesReloadableParameters() throws Exception {
        Path dir = RealData.fashion();
        TrainingResult r = QuickStart.train(dir, 128, tmp);
        float loss = r.getTrainLoss();
        float accuracy = r.getTrainEvaluation("Accuracy");
        System.out.printf(
                "QuickStart, 128 images, 2 epochs: train loss %.4f, accuracy %.4f%n",
                loss, accuracy);
        assertEquals(2, r.getEpoch());
        // measured: loss 0.73, accuracy 0.94 in the second epoch (0.30 and 0.89 when the example
        // used torchvision's stem at width 64); from
        // random weights the loss of 10 near-uniform classes is ln 10 = 2.30 and accuracy 0.1
        assertTrue(loss < 1.5, "loss " + loss);
        assertTrue(accuracy > 0.5, "accuracy " + accuracy);
        // the saved file loads into the README's architecture, every parameter present (DJL's
        // load fails on any missing or misshapen one) and finite. Its test accuracy says nothing
        // after 4 steps: batch normalisation's running statistics are still near their start.
        try (Model model = Model.newInstance("dfm")) {
            FeedbackBlock net =
                    ResNet18.builder()
                            .setNumClasses(10)
                            .optInChannels(1)
                            .optStem(ResNetStem.CIFAR)
                            .optWidth(16)
                            .optIterations(5)
                            .build();
            model.setBlock(net);
            model.load(tmp, "dfm");
            long values = 0;
            for (Pair<String, Parameter> p : net.getParameters()) {
                NDArray a = p.getValue().getArray();
                assertEquals(0, a.isNaN().logicalOr(a.isInfinite()).sum().getLong(), p.getKey());
                values += a.size();
            }
            // ResNet18 at base width 16 with 8 feedback filters (torchvision's, at width 64, has
            // 11.7 M)
            assertEquals(786_404, values, "parameter values");
        }
    }

    @Test
    void mainTakesTheNumberOfImagesAndNamesABadOne() {
        assertEquals(64, QuickStart.imageCount("64"));
        assertEquals(60000, QuickStart.imageCount("60000"));
        for (String bad : new String[] {"63", "60001", "1e3", "many"}) {
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> QuickStart.imageCount(bad));
            assertEquals(
                    "number of training images (second argument) must be an integer from 64 to"
                            + " 60000 (one batch of 64 up to the whole training set), got '"
                            + bad
                            + "'",
                    e.getMessage());
        }
    }

    @Test
    void aFolderWithoutTheGzipFilesIsNamed() throws Exception {
        QuickStart.checkFolder(RealData.fashion());
        Path uncompressed = tmp.resolve("mnist");
        java.nio.file.Files.createDirectories(uncompressed);
        java.nio.file.Files.createFile(uncompressed.resolve("train-images-idx3-ubyte"));
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class, () -> QuickStart.checkFolder(uncompressed));
        assertEquals(
                "IDX folder (first argument) "
                        + uncompressed
                        + " has no train-images-idx3-ubyte.gz: QuickStart reads the gzip-compressed"
                        + " files train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz"
                        + " (TrainMnist --data-dir also reads uncompressed ones)",
                e.getMessage());
    }
}
