package dfbmodels.eval;

/**
 * The intersection over union of one class, as a DJL evaluator: {@code TP_c / (P_c + L_c - TP_c)}
 * from counts accumulated over the whole data set; {@code NaN} while the class has been neither
 * predicted nor labelled. See {@link MeanIoU}.
 */
public class ClassIoU extends SegmentationEvaluator {

    private final int classIndex;

    /**
     * Creates the evaluator, named {@code "IoU<c>"} (e.g. {@code "IoU1"}).
     *
     * @param numClasses the number of classes, background included, at least 2
     * @param classIndex the class {@code c}, {@code 0 <= c < numClasses}
     * @throws IllegalArgumentException if {@code classIndex} is out of range
     */
    public ClassIoU(int numClasses, int classIndex) {
        this("IoU" + classIndex, numClasses, classIndex);
    }

    /**
     * Creates the evaluator.
     *
     * @param name the evaluator's name
     * @param numClasses the number of classes, background included, at least 2
     * @param classIndex the class {@code c}, {@code 0 <= c < numClasses}
     * @throws IllegalArgumentException if {@code classIndex} is out of range
     */
    public ClassIoU(String name, int numClasses, int classIndex) {
        super(name, numClasses);
        if (classIndex < 0 || classIndex >= numClasses) {
            throw new IllegalArgumentException(
                    "classIndex must be in [0, " + numClasses + "), got " + classIndex);
        }
        this.classIndex = classIndex;
    }

    /** {@inheritDoc} */
    @Override
    protected double compute(long[] truePositives, long[] predicted, long[] labelled) {
        return iou(truePositives[classIndex], predicted[classIndex], labelled[classIndex]);
    }
}
