package dfbmodels.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.evaluator.Evaluator;
import java.util.HashMap;
import java.util.Map;

/**
 * The mean of the predictions' values, as a DJL evaluator: a metric that tells every cell apart.
 */
final class MeanOutput extends Evaluator {

    private final Map<String, double[]> sums = new HashMap<>();

    MeanOutput() {
        super("Mean_Output");
    }

    @Override
    public NDArray evaluate(NDList labels, NDList predictions) {
        return predictions.head().mean();
    }

    @Override
    public void addAccumulator(String key) {
        sums.put(key, new double[2]);
    }

    @Override
    public void updateAccumulator(String key, NDList labels, NDList predictions) {
        double[] s = sums.get(key);
        for (double v : predictions.head().toType(DataType.FLOAT64, false).toDoubleArray()) {
            s[0] += v;
        }
        s[1] += predictions.head().size();
    }

    @Override
    public void resetAccumulator(String key) {
        addAccumulator(key);
    }

    @Override
    public float getAccumulator(String key) {
        double[] s = sums.get(key);
        return (float) (s[0] / s[1]);
    }
}
