package dfbmodels.examples;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.Record;
import ai.djl.training.loss.Loss;
import ai.djl.training.loss.SoftmaxCrossEntropyLoss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.translate.TranslateException;
import ai.djl.util.PairList;
import dfbmodels.DeepSupervisionLoss;
import dfbmodels.FeedbackBlock;
import dfbmodels.eval.ClassIoU;
import dfbmodels.eval.Dice;
import dfbmodels.eval.MeanIoU;
import dfbmodels.eval.PixelAccuracy;
import dfbmodels.eval.SegmentationEvaluator;
import dfbmodels.models.ResidualBlockType;
import dfbmodels.models.UNet;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The experiment of "Deep Recurrence for Dynamical Segmentation Models" on synthetic polygons:
 * trains the feedback U-Net and its feedforward twin (the same network and initial weights, loop
 * off) on a few noisy triangles, then
 *
 * <ul>
 *   <li>{@code polygons.png}: the paper's figure, one row per test noise level: input, the feedback
 *       model's initial prediction, its prediction after every step, the feedforward prediction,
 *       the truth;
 *   <li>{@code polygons.csv}: mean IoU, polygon IoU, polygon Dice and pixel accuracy per model,
 *       noise level and step, and of the low-data experiment;
 *   <li>{@code polygons-charts.png}: polygon IoU against test noise, and against the number of
 *       training images (the low-data experiment: both models trained on 1, 2, 4, 8, 16 images).
 * </ul>
 *
 * <pre>
 *   mvn -q exec:java -Dmain.class=dfbmodels.examples.Polygons -Dexec.args="--size 64 --sigma 2"
 * </pre>
 *
 * <p>Every training run takes the same number of optimiser steps ({@code --steps}), cycling its
 * images with fresh noise at every read, so the low-data experiment compares data, not steps.
 * Evaluation uses fixed noise per test image and T steps without early stopping.
 */
public final class Polygons {

    private static final int CLASSES = 2;

    private Polygons() {}

    /** What a run produced. */
    public static final class Result {
        /** The test noise levels. */
        public float[] sigmas;

        /** Feedback model's polygon IoU per noise level and step t = 0 .. T-1. */
        public double[][] feedbackIoU;

        /** Feedforward model's polygon IoU per noise level. */
        public double[] feedforwardIoU;

        /** Mean IoU of predicting background everywhere, the trivial baseline. */
        public double backgroundMeanIoU;

        /** Training-set sizes of the low-data experiment. */
        public int[] lowDataSizes;

        /** Feedback model's polygon IoU (last step) per training-set size. */
        public double[] lowDataFeedback;

        /** Feedforward model's polygon IoU per training-set size. */
        public double[] lowDataFeedforward;

        /** The figure, the CSV file and the charts. */
        public Path figure;

        /** The CSV file. */
        public Path csv;

        /** The charts. */
        public Path charts;

        /** Wall time of the whole run, seconds. */
        public double seconds;
    }

    /**
     * Runs the experiment.
     *
     * @param args see {@code --help}
     * @throws Exception if training fails
     */
    public static void main(String[] args) throws Exception {
        Cli.main(
                args,
                PolygonsOptions::parse,
                options -> {
                    Result r = run(options);
                    System.out.printf(
                            Locale.ROOT,
                            "done in %.0f s: figure %s, table %s, charts %s%n",
                            r.seconds,
                            r.figure,
                            r.csv,
                            r.charts);
                });
    }

    /**
     * Trains, evaluates and writes the figure, the table and the charts.
     *
     * @param o the options
     * @return the results
     * @throws IOException if the output cannot be written
     * @throws TranslateException if a batch cannot be processed
     * @throws IllegalArgumentException with {@code --device gpu} where LibTorch sees no GPU
     */
    public static Result run(PolygonsOptions o) throws IOException, TranslateException {
        long start = System.nanoTime();
        Device device = OptionValues.runtimeDevice(o.device);
        Files.createDirectories(o.output);
        Result result = new Result();
        result.sigmas = o.sigmas.clone();
        int steps = o.iterations;
        List<String> csv = new ArrayList<>();
        csv.add(
                "experiment,model,train_images,train_sigma,sigma,t,mean_iou,polygon_iou,"
                        + "polygon_dice,pixel_accuracy");
        try (Model fbModel = Model.newInstance("feedback-unet", device);
                Model ffModel = Model.newInstance("feedforward-unet", device)) {
            FeedbackBlock fb = train(fbModel, o, true, o.train);
            FeedbackBlock ff = train(ffModel, o, false, o.train);
            NDManager manager = fbModel.getNDManager();
            result.feedbackIoU = new double[o.sigmas.length][];
            result.feedforwardIoU = new double[o.sigmas.length];
            List<PolygonsFigure.Row> rows = new ArrayList<>();
            for (int i = 0; i < o.sigmas.length; i++) {
                float sigma = o.sigmas[i];
                dfbmodels.data.Polygons test = testSet(o, sigma);
                double[][] f = evaluate(fb, manager, test, steps);
                double[][] g = evaluate(ff, manager, test, 1);
                result.feedbackIoU[i] = new double[steps];
                for (int t = 0; t < steps; t++) {
                    result.feedbackIoU[i][t] = f[t][1];
                    csv.add(row("noise", "feedback", o.train, o.sigma, sigma, t, f[t]));
                }
                result.feedforwardIoU[i] = g[0][1];
                csv.add(row("noise", "feedforward", o.train, o.sigma, sigma, 0, g[0]));
                System.out.printf(
                        Locale.ROOT,
                        "sigma %s: polygon IoU feedback t=0..%d %s, feedforward %.3f%n",
                        sigma,
                        steps - 1,
                        format(result.feedbackIoU[i]),
                        g[0][1]);
                rows.add(figureRow(fb, ff, manager, test, i % o.test, steps, sigma));
            }
            double[] background = background(manager, testSet(o, o.sigmas[0]));
            result.backgroundMeanIoU = background[0];
            csv.add(row("noise", "all-background", 0, o.sigma, o.sigmas[0], 0, background));
            result.figure = o.output.resolve("polygons.png");
            PolygonsFigure.write(result.figure, rows, o.size, o.size);
        }

        result.lowDataSizes = o.lowData.clone();
        result.lowDataFeedback = new double[o.lowData.length];
        result.lowDataFeedforward = new double[o.lowData.length];
        for (int i = 0; i < o.lowData.length; i++) {
            int n = o.lowData[i];
            try (Model fbModel = Model.newInstance("feedback-unet-" + n, device);
                    Model ffModel = Model.newInstance("feedforward-unet-" + n, device)) {
                FeedbackBlock fb = train(fbModel, o, true, n);
                FeedbackBlock ff = train(ffModel, o, false, n);
                dfbmodels.data.Polygons test = testSet(o, o.sigma);
                NDManager manager = fbModel.getNDManager();
                double[][] f = evaluate(fb, manager, test, steps);
                double[][] g = evaluate(ff, manager, test, 1);
                result.lowDataFeedback[i] = f[steps - 1][1];
                result.lowDataFeedforward[i] = g[0][1];
                csv.add(row("low-data", "feedback", n, o.sigma, o.sigma, steps - 1, f[steps - 1]));
                csv.add(row("low-data", "feedforward", n, o.sigma, o.sigma, 0, g[0]));
                System.out.printf(
                        Locale.ROOT,
                        "%d training images: polygon IoU feedback %.3f, feedforward %.3f%n",
                        n,
                        f[steps - 1][1],
                        g[0][1]);
            }
        }
        result.csv = o.output.resolve("polygons.csv");
        try (BufferedWriter w = Files.newBufferedWriter(result.csv, StandardCharsets.UTF_8)) {
            for (String line : csv) {
                w.write(line);
                w.write('\n');
            }
        }
        double[] last = new double[o.sigmas.length];
        for (int i = 0; i < last.length; i++) {
            last[i] = result.feedbackIoU[i][steps - 1];
        }
        result.charts = o.output.resolve("polygons-charts.png");
        PolygonsCharts.write(
                result.charts,
                o.sigmas,
                last,
                result.feedforwardIoU,
                o.sigma,
                steps,
                o.lowData,
                result.lowDataFeedback,
                result.lowDataFeedforward);
        result.seconds = (System.nanoTime() - start) / 1e9;
        return result;
    }

    /** The U-Net of the options; the feedforward twin with {@code feedback = false}. */
    static FeedbackBlock build(PolygonsOptions o, boolean feedback) {
        return UNet.builder()
                .setNumClasses(CLASSES)
                .optFbFilters(o.fbFilters)
                .optClassFilters(o.classFilters)
                .optTau(o.tau)
                .optTimeExponent(o.timeExponent)
                .optEncoder(ResidualBlockType.BASIC, o.layers)
                .optIterations(o.iterations)
                .optAtol(0f)
                .optFeedback(feedback)
                .optStepReadouts(o.deepSupervision)
                .build();
    }

    /**
     * Training images: the first {@code n} polygons of the training seed, fresh noise per read, in
     * random batches of {@code min(batchSize, n)}; an epoch's last incomplete batch is dropped (a
     * batch of one 32×32 image cannot train: BatchNorm would see one value per channel).
     */
    static dfbmodels.data.Polygons trainSet(PolygonsOptions o, int n) {
        return dfbmodels.data.Polygons.builder()
                .setSize(n)
                .optResolution(o.size, o.size)
                .optSigma(o.sigma)
                .optSeed(o.seed)
                .setSampling(Math.min(o.batchSize, n), true, true)
                .build();
    }

    /** Test images: other polygons, the same at every noise level, one noise draw each. */
    static dfbmodels.data.Polygons testSet(PolygonsOptions o, float sigma) {
        return dfbmodels.data.Polygons.builder()
                .setSize(o.test)
                .optResolution(o.size, o.size)
                .optSigma(sigma)
                .optSeed(o.seed + 1000)
                .optFreshNoise(false)
                .setSampling(Math.min(8, o.test), false)
                .build();
    }

    private static FeedbackBlock train(Model model, PolygonsOptions o, boolean feedback, int n)
            throws IOException, TranslateException {
        FeedbackBlock block = build(o, feedback);
        model.setBlock(block);
        Loss ce = new SoftmaxCrossEntropyLoss("ce", 1, 1, true, true);
        DefaultTrainingConfig config =
                new DefaultTrainingConfig(o.deepSupervision ? new DeepSupervisionLoss(ce) : ce)
                        .optOptimizer(
                                Optimizer.adam()
                                        .optLearningRateTracker(Tracker.fixed(o.learningRate))
                                        .build())
                        .optDevices(new Device[] {model.getNDManager().getDevice()});
        dfbmodels.data.Polygons data = trainSet(o, n);
        long start = System.nanoTime();
        try (Trainer trainer = model.newTrainer(config)) {
            // the same seed before both models: the twin starts from the feedback model's weights
            Engine.getInstance().setRandomSeed((int) o.seed);
            trainer.initialize(new Shape(Math.min(o.batchSize, n), 3, o.size, o.size));
            int step = 0;
            double loss = 0;
            while (step < o.steps) {
                for (Batch batch : trainer.iterateDataset(data)) {
                    try (batch;
                            GradientCollector gc = trainer.newGradientCollector()) {
                        NDList out = trainer.forward(batch.getData(), batch.getLabels());
                        NDArray l = trainer.getLoss().evaluate(batch.getLabels(), out);
                        gc.backward(l);
                        loss += l.getFloat();
                    }
                    trainer.step();
                    step++;
                    if (step % 20 == 0 || step == o.steps) {
                        System.out.printf(
                                Locale.ROOT,
                                "%s U-Net, %d image(s), step %d/%d: loss %.4f (%.0f s)%n",
                                feedback ? "feedback" : "feedforward",
                                n,
                                step,
                                o.steps,
                                loss / (step % 20 == 0 ? 20 : step % 20),
                                (System.nanoTime() - start) / 1e9);
                        loss = 0;
                    }
                    if (step == o.steps) {
                        break;
                    }
                }
            }
        }
        return block;
    }

    /**
     * Mean IoU, polygon IoU, polygon Dice and pixel accuracy of the readout after every step t = 0
     * .. steps-1 (one forward with per-step readouts).
     */
    static double[][] evaluate(
            FeedbackBlock block, NDManager manager, dfbmodels.data.Polygons test, int steps)
            throws IOException, TranslateException {
        SegmentationEvaluator[] metrics = {
            new MeanIoU(CLASSES),
            new ClassIoU(CLASSES, 1),
            new Dice(CLASSES, 1),
            new PixelAccuracy(CLASSES)
        };
        for (SegmentationEvaluator m : metrics) {
            for (int t = 0; t < steps; t++) {
                m.addAccumulator("t" + t);
            }
        }
        PairList<String, Object> params = new PairList<>();
        params.add(FeedbackBlock.ITERATIONS, steps);
        params.add(FeedbackBlock.RETURN_READOUTS, true);
        for (Batch batch : test.getData(manager)) {
            try (batch) {
                NDList out =
                        block.forward(
                                new ParameterStore(batch.getManager(), false),
                                batch.getData(),
                                false,
                                params);
                NDList readouts = FeedbackBlock.stepReadouts(out);
                for (int t = 0; t < readouts.size(); t++) {
                    for (SegmentationEvaluator m : metrics) {
                        m.updateAccumulator(
                                "t" + t, batch.getLabels(), new NDList(readouts.get(t)));
                    }
                }
            }
        }
        double[][] result = new double[steps][metrics.length];
        for (int t = 0; t < steps; t++) {
            for (int k = 0; k < metrics.length; k++) {
                result[t][k] = metrics[k].getAccumulator("t" + t);
            }
        }
        return result;
    }

    /** The metrics of predicting background everywhere. */
    private static double[] background(NDManager manager, dfbmodels.data.Polygons test)
            throws IOException, TranslateException {
        SegmentationEvaluator[] metrics = {
            new MeanIoU(CLASSES),
            new ClassIoU(CLASSES, 1),
            new Dice(CLASSES, 1),
            new PixelAccuracy(CLASSES)
        };
        for (SegmentationEvaluator m : metrics) {
            m.addAccumulator("bg");
        }
        for (Batch batch : test.getData(manager)) {
            try (batch) {
                Shape s = batch.getData().head().getShape();
                NDArray logits =
                        batch.getManager().zeros(new Shape(s.get(0), CLASSES, s.get(2), s.get(3)));
                logits.set(new NDIndex(":, 0"), 1f);
                for (SegmentationEvaluator m : metrics) {
                    m.updateAccumulator("bg", batch.getLabels(), new NDList(logits));
                }
            }
        }
        double[] out = new double[metrics.length];
        for (int k = 0; k < metrics.length; k++) {
            out[k] = metrics[k].getAccumulator("bg");
        }
        return out;
    }

    /** Probability maps of one test image for the figure. */
    private static PolygonsFigure.Row figureRow(
            FeedbackBlock fb,
            FeedbackBlock ff,
            NDManager manager,
            dfbmodels.data.Polygons test,
            long index,
            int steps,
            float sigma) {
        try (NDManager m = manager.newSubManager()) {
            Record record = test.get(m, index);
            NDArray x = record.getData().head().expandDims(0);
            ParameterStore ps = new ParameterStore(m, false);
            PairList<String, Object> initial = new PairList<>();
            initial.add(FeedbackBlock.ITERATIONS, 0);
            initial.add(FeedbackBlock.RETURN_READOUTS, false);
            PairList<String, Object> all = new PairList<>();
            all.add(FeedbackBlock.ITERATIONS, steps);
            all.add(FeedbackBlock.RETURN_READOUTS, true);
            float[] init = probability(fb.forward(ps, new NDList(x), false, initial).head());
            List<float[]> perStep = new ArrayList<>();
            for (NDArray r :
                    FeedbackBlock.stepReadouts(fb.forward(ps, new NDList(x), false, all))) {
                perStep.add(probability(r));
            }
            // the twin runs its one step whatever T is asked for
            float[] forward = probability(ff.forward(ps, new NDList(x), false, all).head());
            float[] truth =
                    record.getLabels().head().toType(DataType.FLOAT32, false).toFloatArray();
            return new PolygonsFigure.Row(
                    sigma, record.getData().head().toFloatArray(), init, perStep, forward, truth);
        }
    }

    /** The polygon class's probability of image 0 of a (1, 2, H, W) logit map, row-major. */
    private static float[] probability(NDArray logits) {
        return logits.softmax(1).get(new NDIndex("0, 1")).toFloatArray();
    }

    private static String row(
            String experiment,
            String model,
            int trainImages,
            float trainSigma,
            float sigma,
            int t,
            double[] m) {
        return String.format(
                Locale.ROOT,
                "%s,%s,%d,%s,%s,%d,%.4f,%.4f,%.4f,%.4f",
                experiment,
                model,
                trainImages,
                trainSigma,
                sigma,
                t,
                m[0],
                m[1],
                m[2],
                m[3]);
    }

    private static String format(double[] values) {
        StringBuilder sb = new StringBuilder();
        for (double v : values) {
            sb.append(sb.length() == 0 ? "" : " ").append(String.format(Locale.ROOT, "%.3f", v));
        }
        return sb.toString();
    }
}
