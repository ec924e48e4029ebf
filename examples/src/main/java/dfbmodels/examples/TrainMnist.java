package dfbmodels.examples;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.metric.Metrics;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.EasyTrain;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;
import ai.djl.training.TrainingResult;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.Dataset;
import ai.djl.training.dataset.RandomAccessDataset;
import ai.djl.training.evaluator.Accuracy;
import ai.djl.training.listener.TrainingListener;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.training.util.ProgressBar;
import ai.djl.translate.TranslateException;
import ai.djl.util.PairList;
import dfbmodels.FeedbackBlock;
import dfbmodels.eval.Corruption;
import dfbmodels.eval.RobustnessEvaluation;
import dfbmodels.eval.RobustnessTable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Trains a feedback ResNet18 on MNIST or Fashion-MNIST with DJL's Trainer, then reports test
 * accuracy as a function of the number of feedback iterations T.
 *
 * <p>The default model is the small-input one: the CIFAR stem ({@code --stem cifar}: 3×3 stride-1
 * {@code conv1}, no max-pool) gives a 4×4 state at 28×28, so the feedback is a spatial map that
 * differs across images and steps; torchvision's stem ({@code --stem imagenet}) gives a 1×1 state
 * and one feedback vector per image. At torchvision's width 64 the CIFAR stem costs ~8 hours per
 * epoch on a 2-core CPU without oneDNN, so the default base width is 16 ({@code --width}, the CIFAR
 * ResNets' 16/32/64 channels), about 11 times cheaper (docs/performance.md). 16 feedback filters by
 * default: with the ImageNet stem's 1×1 state, 8 filters over 8 GroupNorm groups normalise the
 * feedback to exactly the uniform softmax; 16 keep two channels per group.
 *
 * <p>Test accuracy for T = 1 .. {@code --max-eval-iterations} comes from one pass over the test set
 * ({@link RobustnessEvaluation} on clean images: one forward at the largest T, read out after every
 * step).
 *
 * <pre>
 *   mvn -q exec:java -Dexec.args="--dataset fashion-mnist --data-dir /usr/share/datasets/fashion-mnist"
 * </pre>
 */
public final class TrainMnist {

    /** The model's name: parameters are saved as {@code MODEL_NAME-NNNN.params}. */
    public static final String MODEL_NAME = "dfm-resnet18";

    private TrainMnist() {}

    /** What a run produced. */
    public static final class Result {
        /** Training loss per epoch. */
        public List<Float> trainLoss;

        /** Training accuracy per epoch. */
        public List<Float> trainAccuracy;

        /** Test accuracy after the last epoch, with the training T. */
        public double testAccuracy;

        /** Test accuracy for T = 1 .. maxEvalIterations. */
        public double[] accuracyByIterations;

        /** Where the parameters were saved. */
        public Path output;

        /** The chart. */
        public Path chart;

        /** Training time, seconds. */
        public double trainSeconds;
    }

    /**
     * Runs the example.
     *
     * @param args see {@code --help}
     * @throws Exception if training fails
     */
    public static void main(String[] args) throws Exception {
        Cli.main(
                args,
                Options::parse,
                options -> {
                    Result r = run(options);
                    System.out.printf(
                            "test accuracy %.4f (T=%d; Adam %s, %s schedule) after %.0f s of"
                                    + " training; parameters in %s; chart %s%n",
                            r.testAccuracy,
                            options.iterations,
                            options.learningRate,
                            options.lrSchedule,
                            r.trainSeconds,
                            r.output,
                            r.chart);
                });
    }

    /**
     * Trains, evaluates, saves the parameters and writes the chart.
     *
     * @param o the options
     * @return the results
     * @throws IOException if data or output cannot be accessed
     * @throws TranslateException if a batch cannot be processed
     * @throws IllegalArgumentException with {@code --device gpu} where LibTorch sees no GPU
     */
    public static Result run(Options o) throws IOException, TranslateException {
        Device device = OptionValues.runtimeDevice(o.device);
        Engine.getInstance().setRandomSeed((int) o.seed);
        FeedbackBlock block = o.model(true).build();
        Result result = new Result();
        try (Model model = Model.newInstance(MODEL_NAME, device)) {
            model.setBlock(block);
            NDManager manager = model.getNDManager();
            RandomAccessDataset train = MnistData.load(o, manager, Dataset.Usage.TRAIN);
            RandomAccessDataset test = MnistData.load(o, manager, Dataset.Usage.TEST);
            Files.createDirectories(o.output);
            DefaultTrainingConfig config = config(o, device, train.size());
            List<Float> trainLoss = new ArrayList<>();
            List<Float> trainAccuracy = new ArrayList<>();
            List<Float> testAccuracy = new ArrayList<>();
            long start = System.nanoTime();
            try (Trainer trainer = model.newTrainer(config)) {
                // the running loss and accuracy in DJL's progress bar, as in DJL's examples
                trainer.setMetrics(new Metrics());
                trainer.initialize(new Shape(o.batchSize, 1, 28, 28));
                for (int epoch = 1; epoch <= o.epochs; epoch++) {
                    EasyTrain.fit(trainer, 1, train, test);
                    TrainingResult r = trainer.getTrainingResult();
                    trainLoss.add(r.getTrainLoss());
                    trainAccuracy.add(r.getTrainEvaluation("Accuracy"));
                    testAccuracy.add(r.getValidateEvaluation("Accuracy"));
                    System.out.printf(
                            "epoch %d: train loss %.4f, train accuracy %.4f, test accuracy %.4f%n",
                            epoch,
                            r.getTrainLoss(),
                            r.getTrainEvaluation("Accuracy"),
                            r.getValidateEvaluation("Accuracy"));
                }
            }
            result.trainSeconds = (System.nanoTime() - start) / 1e9;
            result.testAccuracy = testAccuracy.get(testAccuracy.size() - 1);
            result.trainLoss = trainLoss;
            result.trainAccuracy = trainAccuracy;
            model.setProperty("Epoch", String.valueOf(o.epochs));
            model.save(o.output, MODEL_NAME);
            result.output = o.output;

            result.accuracyByIterations = accuracyByIterations(block, test, o.maxEvalIterations);
            for (int t = 1; t <= o.maxEvalIterations; t++) {
                System.out.printf(
                        "test accuracy with T=%d: %.4f%n", t, result.accuracyByIterations[t - 1]);
            }
            result.chart = o.output.resolve("training.png");
            Charts.write(
                    result.chart,
                    trainLoss,
                    trainAccuracy,
                    testAccuracy,
                    result.accuracyByIterations,
                    o.iterations);
        }
        return result;
    }

    /**
     * The training configuration: softmax cross-entropy, Adam at {@code --lr} with the {@code
     * --lr-schedule}, accuracy, DJL's logging listeners.
     *
     * @param o the options
     * @param device the device
     * @param trainSize the number of training images
     * @return the configuration
     */
    static DefaultTrainingConfig config(Options o, Device device, long trainSize) {
        return new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                .optOptimizer(
                        Optimizer.adam()
                                .optLearningRateTracker(
                                        learningRate(
                                                o,
                                                MnistData.stepsPerEpoch(trainSize, o.batchSize)
                                                        * o.epochs))
                                .build())
                .addEvaluator(new Accuracy())
                .optDevices(new Device[] {device})
                .addTrainingListeners(TrainingListener.Defaults.logging());
    }

    /**
     * The learning rate of every step: {@code --lr} throughout, or its cosine decay, as torch's
     * {@code CosineAnnealingLR(T_max = steps)} stepped once per batch: update {@code k = 1 ..
     * steps} (DJL's Adam counts from 1) gets {@code lr/2 · (1 + cos(π (k − 1) / steps))}, so the
     * first gets {@code lr} and the last still moves the weights.
     *
     * @param o the options
     * @param steps the number of optimiser steps of the run, at least 1
     * @return the tracker
     */
    static Tracker learningRate(Options o, long steps) {
        if (o.lrSchedule.equals("constant")) {
            return Tracker.fixed(o.learningRate);
        }
        Tracker cosine =
                Tracker.cosine()
                        .setBaseValue(o.learningRate)
                        .optFinalValue(0f)
                        .setMaxUpdates((int) Math.min(Integer.MAX_VALUE, Math.max(1, steps)))
                        .build();
        return k -> cosine.getNewValue(Math.max(0, k - 1));
    }

    /**
     * Test accuracy for T = 1 .. {@code maxIterations} in one pass over the test set.
     *
     * @param block the trained model
     * @param test the test set
     * @param maxIterations the largest T
     * @return element {@code t - 1} is the accuracy with T = t
     * @throws IOException if the data cannot be read
     * @throws TranslateException if a batch cannot be processed
     */
    static double[] accuracyByIterations(FeedbackBlock block, Dataset test, int maxIterations)
            throws IOException, TranslateException {
        int[] ts = IntStream.rangeClosed(1, maxIterations).toArray();
        RobustnessTable table =
                RobustnessEvaluation.builder()
                        .addCorruption(Corruption.none(), 0)
                        .setIterations(ts)
                        .optProgress(new ProgressBar())
                        .build()
                        .evaluate("feedback", block, test);
        double[] accuracy = new double[maxIterations];
        for (int t : ts) {
            accuracy[t - 1] = table.get("feedback", "none", 0, t);
        }
        return accuracy;
    }

    /**
     * Test accuracy of {@code block} with {@code iterations} feedback steps.
     *
     * @param block the model
     * @param manager a manager for the batches
     * @param test the test set
     * @param iterations T
     * @return the fraction of correctly classified images
     * @throws IOException if the data cannot be read
     * @throws TranslateException if a batch cannot be processed
     */
    static double accuracy(FeedbackBlock block, NDManager manager, Dataset test, int iterations)
            throws IOException, TranslateException {
        PairList<String, Object> params = new PairList<>();
        params.add(FeedbackBlock.ITERATIONS, iterations);
        long correct = 0;
        long total = 0;
        for (Batch batch : test.getData(manager)) {
            try (batch) {
                NDArray x = batch.getData().head();
                NDArray logits =
                        block.forward(
                                        new ParameterStore(batch.getManager(), false),
                                        new NDList(x),
                                        false,
                                        params)
                                .head();
                NDArray labels = batch.getLabels().head();
                correct +=
                        logits.argMax(1)
                                .toType(labels.getDataType(), false)
                                .eq(labels.reshape(-1))
                                .sum()
                                .getLong();
                total += labels.size();
            }
        }
        return (double) correct / total;
    }
}
