package dfbmodels.eval;

/**
 * The fraction of pixels whose predicted class is the label, as a DJL evaluator, from counts
 * accumulated over the whole data set. With a small foreground it is high even for a model that
 * predicts background everywhere; prefer {@link MeanIoU}.
 */
public class PixelAccuracy extends SegmentationEvaluator {

    /**
     * Creates the evaluator, named {@code "PixelAccuracy"}.
     *
     * @param numClasses the number of classes, background included, at least 2
     */
    public PixelAccuracy(int numClasses) {
        super("PixelAccuracy", numClasses);
    }

    /** {@inheritDoc} */
    @Override
    protected double compute(long[] truePositives, long[] predicted, long[] labelled) {
        long correct = 0;
        long total = 0;
        for (int c = 0; c < truePositives.length; c++) {
            correct += truePositives[c];
            total += labelled[c];
        }
        return total == 0 ? Double.NaN : (double) correct / total;
    }
}
