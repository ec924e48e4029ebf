package dfbmodels.examples;

import ai.djl.Model;
import ai.djl.metric.Metrics;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.EasyTrain;
import ai.djl.training.Trainer;
import ai.djl.training.TrainingResult;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.evaluator.Accuracy;
import ai.djl.training.listener.TrainingListener;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.translate.TranslateException;
import dfbmodels.FeedbackBlock;
import dfbmodels.models.ResNet18;
import dfbmodels.models.ResNetStem;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.zip.GZIPInputStream;

/** The README's training example, kept here so that it compiles and a test runs it. */
public final class QuickStart {

    private QuickStart() {}

    /**
     * Trains a feedback ResNet18 on Fashion-MNIST from Debian's {@code dataset-fashion-mnist} (or
     * the IDX folder given as the first argument) for two epochs; saves into {@code
     * build/quickstart}.
     *
     * @param args optionally a folder of the gzip-compressed IDX files, then optionally the number
     *     of training images, 64 to 60000 (default 60000)
     * @throws Exception if training fails
     */
    public static void main(String[] args) throws Exception {
        Path dir = Paths.get(args.length > 0 ? args[0] : "/usr/share/datasets/fashion-mnist");
        int n = args.length > 1 ? imageCount(args[1]) : 60000;
        checkFolder(dir);
        Path out = Paths.get("build", "quickstart");
        TrainingResult r = train(dir, n, out);
        System.out.printf(
                "epoch %d: train loss %.4f, train accuracy %.4f; parameters in %s%n",
                r.getEpoch(), r.getTrainLoss(), r.getTrainEvaluation("Accuracy"), out);
    }

    /** The snippet reads the two gzip-compressed training files; say so before training starts. */
    static void checkFolder(Path dir) {
        for (String name :
                new String[] {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"}) {
            if (!Files.isRegularFile(dir.resolve(name))) {
                throw new IllegalArgumentException(
                        "IDX folder (first argument) "
                                + dir
                                + " has no "
                                + name
                                + ": QuickStart reads the gzip-compressed files"
                                + " train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz"
                                + " (TrainMnist --data-dir also reads uncompressed ones)");
            }
        }
    }

    /** The number of training images: at least one batch of 64, at most the 60,000 there are. */
    static int imageCount(String value) {
        try {
            int n = Integer.parseInt(value);
            if (n >= 64 && n <= 60000) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(
                "number of training images (second argument) must be an integer from 64 to 60000"
                        + " (one batch of 64 up to the whole training set), got '"
                        + value
                        + "'");
    }

    // README:begin
    /** Trains for 2 epochs on the first n images of the gzip-compressed IDX files in dir. */
    static TrainingResult train(Path dir, int n, Path out) throws IOException, TranslateException {
        FeedbackBlock net =
                ResNet18.builder()
                        .setNumClasses(10)
                        .optInChannels(1)
                        .optStem(ResNetStem.CIFAR) // 3x3/1 stem: a 4x4 state at 28x28, not 1x1
                        .optWidth(16) // layers of 16, 32, 64, 128 channels
                        .optIterations(5)
                        .build();
        try (Model model = Model.newInstance("dfm")) {
            model.setBlock(net);
            NDManager m = model.getNDManager();
            NDArray images = idx(m, dir.resolve("train-images-idx3-ubyte.gz"), 16, n, 1, 28, 28);
            NDArray labels = idx(m, dir.resolve("train-labels-idx1-ubyte.gz"), 8, n);
            ArrayDataset train =
                    new ArrayDataset.Builder()
                            .setData(images.divi(255)) // (n, 1, 28, 28) in [0, 1]
                            .optLabels(labels)
                            .setSampling(64, true, true) // shuffled, full batches only
                            .build();
            DefaultTrainingConfig config =
                    new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                            .optOptimizer(Optimizer.adam().build())
                            .addEvaluator(new Accuracy())
                            .addTrainingListeners(TrainingListener.Defaults.logging());
            try (Trainer trainer = model.newTrainer(config)) {
                trainer.setMetrics(new Metrics()); // loss and accuracy in the progress bar
                trainer.initialize(new Shape(64, 1, 28, 28));
                EasyTrain.fit(trainer, 2, train, null);
                model.save(out, "dfm");
                return trainer.getTrainingResult();
            }
        }
    }

    /** An IDX file's values (after its header) as float32 of the given shape. */
    static NDArray idx(NDManager m, Path gz, int header, long... shape) throws IOException {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(gz))) {
            in.skipNBytes(header);
            Shape s = new Shape(shape);
            ByteBuffer bytes = ByteBuffer.wrap(in.readNBytes((int) s.size()));
            return m.create(bytes, s, DataType.UINT8).toType(DataType.FLOAT32, false);
        }
    }
    // README:end
}
