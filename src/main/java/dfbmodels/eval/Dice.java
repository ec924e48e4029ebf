package dfbmodels.eval;

/**
 * The Dice coefficient (F1 score of the pixels), as a DJL evaluator: {@code Dice_c = 2 TP_c / (P_c
 * + L_c)} from counts accumulated over the whole data set; either of one class, or averaged over
 * the classes that occur (predicted or labelled) at least once.
 */
public class Dice extends SegmentationEvaluator {

    private final int classIndex;

    /**
     * Creates the evaluator of the mean Dice over classes, named {@code "Dice"}.
     *
     * @param numClasses the number of classes, background included, at least 2
     */
    public Dice(int numClasses) {
        super("Dice", numClasses);
        this.classIndex = -1;
    }

    /**
     * Creates the evaluator of one class's Dice, named {@code "Dice<c>"}.
     *
     * @param numClasses the number of classes, background included, at least 2
     * @param classIndex the class {@code c}, {@code 0 <= c < numClasses}
     * @throws IllegalArgumentException if {@code classIndex} is out of range
     */
    public Dice(int numClasses, int classIndex) {
        super("Dice" + classIndex, numClasses);
        if (classIndex < 0 || classIndex >= numClasses) {
            throw new IllegalArgumentException(
                    "classIndex must be in [0, " + numClasses + "), got " + classIndex);
        }
        this.classIndex = classIndex;
    }

    /** {@inheritDoc} */
    @Override
    protected double compute(long[] truePositives, long[] predicted, long[] labelled) {
        if (classIndex >= 0) {
            return dice(truePositives[classIndex], predicted[classIndex], labelled[classIndex]);
        }
        double[] dice = new double[truePositives.length];
        for (int c = 0; c < dice.length; c++) {
            dice[c] = dice(truePositives[c], predicted[c], labelled[c]);
        }
        return meanOfDefined(dice);
    }
}
