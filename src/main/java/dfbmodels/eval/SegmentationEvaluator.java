package dfbmodels.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.evaluator.Evaluator;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The common part of the segmentation metrics ({@link MeanIoU}, {@link ClassIoU}, {@link Dice},
 * {@link PixelAccuracy}): per-class pixel counts accumulated over a data set, from which each
 * metric is computed once at the end (not averaged over batches).
 *
 * <p>Predictions: the head of the prediction list, logits or probabilities {@code (B, C, H, W)};
 * the predicted class of a pixel is the arg-max over {@code C}. Labels: per-pixel class indices
 * {@code (B, 1, H, W)} or {@code (B, H, W)}, or one-hot / probabilities {@code (B, C, H, W)}
 * (arg-max). For every class {@code c} the evaluator counts {@code TP_c} (pixels predicted {@code
 * c} and labelled {@code c}), {@code P_c} (predicted {@code c}) and {@code L_c} (labelled {@code
 * c}).
 */
public abstract class SegmentationEvaluator extends Evaluator {

    private final int numClasses;
    private final Map<String, long[][]> counts = new ConcurrentHashMap<>();

    /**
     * Creates the evaluator.
     *
     * @param name the evaluator's name
     * @param numClasses the number of classes {@code C}, at least 2 (background included)
     * @throws IllegalArgumentException if {@code numClasses < 2}
     */
    protected SegmentationEvaluator(String name, int numClasses) {
        super(name);
        if (numClasses < 2) {
            throw new IllegalArgumentException(
                    "numClasses must be at least 2 (background included), got " + numClasses);
        }
        this.numClasses = numClasses;
    }

    /**
     * Returns the number of classes.
     *
     * @return {@code C}
     */
    public int getNumClasses() {
        return numClasses;
    }

    /**
     * Computes the metric from per-class counts.
     *
     * @param truePositives {@code TP_c}, per class
     * @param predicted {@code P_c}, per class
     * @param labelled {@code L_c}, per class
     * @return the metric; {@code NaN} when it is undefined (e.g. no pixel at all)
     */
    protected abstract double compute(long[] truePositives, long[] predicted, long[] labelled);

    /**
     * Returns the metric of one batch.
     *
     * @param labels the labels (see the class description)
     * @param predictions the predictions; only the head is used
     * @return a float32 scalar on the predictions' manager
     * @throws IllegalArgumentException if labels and predictions do not fit together
     */
    @Override
    public NDArray evaluate(NDList labels, NDList predictions) {
        long[][] c = counts(labels, predictions);
        return predictions.head().getManager().create((float) compute(c[0], c[1], c[2]));
    }

    /** {@inheritDoc} */
    @Override
    public void addAccumulator(String key) {
        counts.put(key, new long[3][numClasses]);
        totalInstances.put(key, 0L);
    }

    /** {@inheritDoc} */
    @Override
    public void updateAccumulator(String key, NDList labels, NDList predictions) {
        updateAccumulators(new String[] {key}, labels, predictions);
    }

    /** {@inheritDoc} */
    @Override
    public void updateAccumulators(String[] keys, NDList labels, NDList predictions) {
        long[][] batch = counts(labels, predictions);
        long pixels = 0;
        for (long l : batch[2]) {
            pixels += l;
        }
        long total = pixels;
        for (String key : keys) {
            long[][] acc = accumulator(key);
            synchronized (acc) {
                for (int i = 0; i < 3; i++) {
                    for (int c = 0; c < numClasses; c++) {
                        acc[i][c] += batch[i][c];
                    }
                }
            }
            totalInstances.compute(key, (k, v) -> v + total);
        }
    }

    /** {@inheritDoc} */
    @Override
    public void resetAccumulator(String key) {
        long[][] acc = accumulator(key);
        synchronized (acc) {
            for (long[] row : acc) {
                Arrays.fill(row, 0);
            }
        }
        totalInstances.put(key, 0L);
    }

    /** {@inheritDoc} */
    @Override
    public float getAccumulator(String key) {
        long[][] acc = accumulator(key);
        synchronized (acc) {
            return (float) compute(acc[0], acc[1], acc[2]);
        }
    }

    /**
     * Returns the accumulated counts: {@code [TP_c, P_c, L_c]}, each per class.
     *
     * @param key the accumulator's key
     * @return a copy of the counts
     * @throws IllegalArgumentException if no accumulator was added under {@code key}
     */
    public long[][] getCounts(String key) {
        long[][] acc = accumulator(key);
        synchronized (acc) {
            return new long[][] {acc[0].clone(), acc[1].clone(), acc[2].clone()};
        }
    }

    private long[][] accumulator(String key) {
        long[][] acc = counts.get(key);
        if (acc == null) {
            throw new IllegalArgumentException(
                    "no accumulator " + key + " in " + getName() + " (addAccumulator first)");
        }
        return acc;
    }

    /** Counts TP, P and L per class for one batch, with one read-back. */
    private long[][] counts(NDList labels, NDList predictions) {
        NDArray pred = predictions.head();
        Shape ps = pred.getShape();
        if (ps.dimension() != 4 || ps.get(1) != numClasses) {
            throw new IllegalArgumentException(
                    getName()
                            + " expects predictions of shape (B, "
                            + numClasses
                            + ", H, W), got "
                            + ps);
        }
        NDArray label = labels.head();
        Shape ls = label.getShape();
        Shape map = new Shape(ps.get(0), ps.get(2), ps.get(3));
        try (NDManager scope = pred.getManager().newSubManager()) {
            scope.tempAttachAll(pred, label);
            NDArray predicted = pred.argMax(1).toType(DataType.INT64, false);
            NDArray labelled;
            if (ls.equals(ps)) {
                labelled = label.argMax(1).toType(DataType.INT64, false);
            } else if (ls.size() == map.size()
                    && ls.get(0) == ps.get(0)
                    && ls.get(ls.dimension() - 1) == ps.get(3)
                    && ls.get(ls.dimension() - 2) == ps.get(2)) {
                labelled = label.reshape(map).toType(DataType.INT64, false);
            } else {
                throw new IllegalArgumentException(
                        getName()
                                + " expects labels of shape (B, 1, H, W), (B, H, W) or (B, C, H, W)"
                                + " for predictions "
                                + ps
                                + ", got "
                                + ls);
            }
            NDArray classes =
                    scope.arange(0, numClasses, 1, DataType.INT64)
                            .toDevice(pred.getDevice(), false)
                            .reshape(1, numClasses, 1, 1);
            NDArray p = predicted.expandDims(1).eq(classes);
            NDArray l = labelled.expandDims(1).eq(classes);
            int[] axes = {0, 2, 3};
            NDArray tp = p.logicalAnd(l).toType(DataType.INT64, false).sum(axes);
            NDArray pc = p.toType(DataType.INT64, false).sum(axes);
            NDArray lc = l.toType(DataType.INT64, false).sum(axes);
            long[] all = NDArrays.stack(new NDList(tp, pc, lc)).toLongArray();
            long[][] out = new long[3][numClasses];
            for (int i = 0; i < 3; i++) {
                System.arraycopy(all, i * numClasses, out[i], 0, numClasses);
            }
            long outside = 0;
            for (long n : out[2]) {
                outside += n;
            }
            if (outside != map.size()) {
                throw new IllegalArgumentException(
                        getName()
                                + ": "
                                + (map.size() - outside)
                                + " label(s) outside the classes 0.."
                                + (numClasses - 1));
            }
            return out;
        }
    }

    /**
     * IoU of class {@code c}: {@code TP / (P + L - TP)}, {@code NaN} when the class is neither
     * predicted nor labelled.
     *
     * @param tp true positives
     * @param predicted pixels predicted as the class
     * @param labelled pixels labelled as the class
     * @return the IoU
     */
    static double iou(long tp, long predicted, long labelled) {
        long union = predicted + labelled - tp;
        return union == 0 ? Double.NaN : (double) tp / union;
    }

    /**
     * Dice of class {@code c}: {@code 2 TP / (P + L)}, {@code NaN} when the class is neither
     * predicted nor labelled.
     *
     * @param tp true positives
     * @param predicted pixels predicted as the class
     * @param labelled pixels labelled as the class
     * @return the Dice coefficient
     */
    static double dice(long tp, long predicted, long labelled) {
        long sum = predicted + labelled;
        return sum == 0 ? Double.NaN : 2.0 * tp / sum;
    }

    /** The mean of the defined (non-NaN) values; NaN if there are none. */
    static double meanOfDefined(double[] values) {
        double sum = 0;
        int n = 0;
        for (double v : values) {
            if (!Double.isNaN(v)) {
                sum += v;
                n++;
            }
        }
        return n == 0 ? Double.NaN : sum / n;
    }
}
