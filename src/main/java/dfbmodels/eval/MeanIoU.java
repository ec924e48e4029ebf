package dfbmodels.eval;

/**
 * Mean intersection over union, as a DJL evaluator: {@code IoU_c = TP_c / (P_c + L_c - TP_c)} from
 * counts accumulated over the whole data set, averaged over the classes that occur (predicted or
 * labelled) at least once; background is a class.
 *
 * <p>This is the real IoU. The feedback U-Net's original code reports as "IoU" the fraction of
 * pixels whose one-hot prediction equals the label, over {@code H·W + 1}: in effect the {@link
 * PixelAccuracy}, which is high even for a model that predicts background everywhere.
 */
public class MeanIoU extends SegmentationEvaluator {

    /**
     * Creates the evaluator, named {@code "MeanIoU"}.
     *
     * @param numClasses the number of classes, background included, at least 2
     */
    public MeanIoU(int numClasses) {
        this("MeanIoU", numClasses);
    }

    /**
     * Creates the evaluator.
     *
     * @param name the evaluator's name
     * @param numClasses the number of classes, background included, at least 2
     */
    public MeanIoU(String name, int numClasses) {
        super(name, numClasses);
    }

    /**
     * Returns the IoU of every class from an accumulator.
     *
     * @param key the accumulator's key
     * @return the IoU per class; {@code NaN} for a class neither predicted nor labelled
     */
    public double[] getClassIoU(String key) {
        long[][] c = getCounts(key);
        return classIoU(c[0], c[1], c[2]);
    }

    /** {@inheritDoc} */
    @Override
    protected double compute(long[] truePositives, long[] predicted, long[] labelled) {
        return meanOfDefined(classIoU(truePositives, predicted, labelled));
    }

    private static double[] classIoU(long[] tp, long[] predicted, long[] labelled) {
        double[] iou = new double[tp.length];
        for (int c = 0; c < tp.length; c++) {
            iou[c] = iou(tp[c], predicted[c], labelled[c]);
        }
        return iou;
    }
}
