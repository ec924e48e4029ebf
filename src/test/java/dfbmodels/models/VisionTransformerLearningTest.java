package dfbmodels.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.PairList;
import dfbmodels.FeedbackBlock;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * A small feedback ViT learns Fashion-MNIST: a seeded short run on a subset of the real files
 * (Debian's {@code dataset-fashion-mnist}) beats chance (10%) by a wide margin, and the feedback it
 * feeds back changes from step to step.
 */
class VisionTransformerLearningTest {

    private static final Path DATA = Paths.get("/usr/share/datasets/fashion-mnist");
    private static final int TRAIN = 2048;
    private static final int TEST = 500;
    private static final int BATCH = 32;
    private static final int EPOCHS = 2;
    private static final int T = 3;

    /** Reads the first {@code n} images of an IDX file as (n, 1, 28, 28) in [0, 1]. */
    private static NDArray images(NDManager m, String file, int n) throws IOException {
        try (DataInputStream in = open(file)) {
            assertEquals(2051, in.readInt(), file + ": not an IDX image file");
            in.readInt();
            int rows = in.readInt();
            int cols = in.readInt();
            byte[] pixels = new byte[n * rows * cols];
            in.readFully(pixels);
            float[] v = new float[pixels.length];
            for (int i = 0; i < v.length; i++) {
                v[i] = (pixels[i] & 0xff) / 255f;
            }
            return m.create(v, new Shape(n, 1, rows, cols));
        }
    }

    /** Reads the first {@code n} labels of an IDX file. */
    private static NDArray labels(NDManager m, String file, int n) throws IOException {
        try (DataInputStream in = open(file)) {
            assertEquals(2049, in.readInt(), file + ": not an IDX label file");
            in.readInt();
            byte[] b = new byte[n];
            in.readFully(b);
            int[] v = new int[n];
            for (int i = 0; i < n; i++) {
                v[i] = b[i] & 0xff;
            }
            return m.create(v);
        }
    }

    private static DataInputStream open(String file) throws IOException {
        InputStream raw = Files.newInputStream(DATA.resolve(file));
        return new DataInputStream(new GZIPInputStream(raw, 1 << 16));
    }

    @Test
    void learnsFashionMnistAndTheFeedbackVariesAcrossSteps() throws IOException {
        Assumptions.assumeTrue(
                Files.isRegularFile(DATA.resolve("train-images-idx3-ubyte.gz")),
                "Fashion-MNIST not found at "
                        + DATA
                        + " (Debian: apt-get install dataset-fashion-mnist); learning test"
                        + " skipped");
        Engine.getInstance().setRandomSeed(2024);
        try (Model model = Model.newInstance("vit-fashion");
                NDManager m = NDManager.newBaseManager()) {
            NDArray trainX = images(m, "train-images-idx3-ubyte.gz", TRAIN);
            NDArray trainY = labels(m, "train-labels-idx1-ubyte.gz", TRAIN);
            NDArray testX = images(m, "t10k-images-idx3-ubyte.gz", TEST);
            NDArray testY = labels(m, "t10k-labels-idx1-ubyte.gz", TEST);
            FeedbackBlock vit =
                    VisionTransformer.builder()
                            .setNumClasses(10)
                            .optInChannels(1)
                            .optImageSize(28)
                            .optPatchSize(VisionTransformer.SMALL_IMAGE_PATCH_SIZE)
                            .optNumLayers(2)
                            .optHiddenDim(64)
                            .optNumHeads(4)
                            .optMlpDim(128)
                            .optIterations(T)
                            .optAtol(0f)
                            .build();
            model.setBlock(vit);
            DefaultTrainingConfig config =
                    new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                            .optOptimizer(
                                    Optimizer.adam()
                                            .optLearningRateTracker(Tracker.fixed(1e-3f))
                                            .build());
            try (Trainer trainer = model.newTrainer(config)) {
                trainer.initialize(new Shape(BATCH, 1, 28, 28));
                for (int epoch = 0; epoch < EPOCHS; epoch++) {
                    for (int i = 0; i < TRAIN; i += BATCH) {
                        try (NDManager batch = m.newSubManager()) {
                            NDArray x = trainX.get(new NDIndex("{}:{}", i, i + BATCH));
                            NDArray y = trainY.get(new NDIndex("{}:{}", i, i + BATCH));
                            x.attach(batch);
                            y.attach(batch);
                            try (GradientCollector gc = trainer.newGradientCollector()) {
                                NDArray logits = trainer.forward(new NDList(x)).head();
                                gc.backward(
                                        trainer.getLoss()
                                                .evaluate(new NDList(y), new NDList(logits)));
                            }
                            trainer.step();
                        }
                    }
                }
            }
            PairList<String, Object> params = new PairList<>();
            params.add(FeedbackBlock.RETURN_STATES, true);
            NDList out =
                    vit.forward(new ParameterStore(m, false), new NDList(testX), false, params);
            double accuracy =
                    out.head()
                            .argMax(1)
                            .toType(DataType.INT32, false)
                            .eq(testY)
                            .toType(DataType.FLOAT32, false)
                            .mean()
                            .getFloat();
            // the feedback of step t+1, from the state after step t: softmax(GN_in(h_t[:, fb]))
            Block gnIn = vit.getChildren().get("05layernorm_input");
            NDArray[] f = new NDArray[T];
            for (int t = 1; t < T; t++) {
                NDArray fb = out.get(t).get(new NDIndex(":, {}:", vit.getClassChannels()));
                f[t] =
                        gnIn.forward(new ParameterStore(m, false), new NDList(fb), false)
                                .head()
                                .softmax(1);
            }
            float uniform = 1f / vit.getFeedbackChannels();
            double fromUniform = f[1].sub(uniform).abs().mean().getFloat();
            double change = f[2].sub(f[1]).abs().mean().getFloat();
            System.out.printf(
                    "ViT Fashion-MNIST (%d train images, %d epochs, T=%d): test accuracy %.3f on"
                            + " %d images (chance 0.100); feedback mean |f2 - f1| = %.4f,"
                            + " mean |f1 - 1/fb| = %.4f%n",
                    TRAIN, EPOCHS, T, accuracy, TEST, change, fromUniform);
            assertTrue(accuracy > 0.5, "test accuracy " + accuracy + " (chance 0.1)");
            assertTrue(
                    fromUniform > 0.01, "feedback after step 1 " + fromUniform + " from uniform");
            assertTrue(change > 0.001, "feedback change from step 1 to 2: " + change);
        }
    }
}
