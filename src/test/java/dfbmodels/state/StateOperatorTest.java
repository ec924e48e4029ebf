package dfbmodels.state;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The step a state operator's {@code forward} reads from its params. */
class StateOperatorTest {

    private static PairList<String, Object> step(Object value) {
        PairList<String, Object> params = new PairList<>();
        params.add(StateOperator.STEP, value);
        return params;
    }

    @Test
    void forwardAppliesTheStepOfItsParamsInBothOperators() {
        try (NDManager m = NDManager.newBaseManager()) {
            Shape shape = new Shape(2, 4, 3, 3);
            for (StateOperator op :
                    List.of(
                            new StateExpDecay(4, 0.5f, 1f),
                            new GeneralStateExpDecay(4, 0.5f, 1f))) {
                op.initialize(m, DataType.FLOAT32, shape);
                NDArray x = m.randomNormal(shape);
                ParameterStore ps = new ParameterStore(m, false);
                String name = op.getClass().getSimpleName();
                // no params and no STEP both mean t = 0
                float[] t0 = op.apply(ps, x, 0, false, null).toFloatArray();
                assertArrayEquals(t0, op.forward(ps, new NDList(x), false).head().toFloatArray());
                assertArrayEquals(
                        t0,
                        op.forward(ps, new NDList(x), false, new PairList<>())
                                .head()
                                .toFloatArray(),
                        name);
                for (Object t : new Object[] {3, 3L, (short) 3, (byte) 3}) {
                    assertArrayEquals(
                            op.apply(ps, x, 3, false, null).toFloatArray(),
                            op.forward(ps, new NDList(x), false, step(t)).head().toFloatArray(),
                            name + " " + t.getClass().getSimpleName());
                }
                // t = 3 with tau 0.5 and |S| = 1 decays by e^-6: not t = 0's output
                assertEquals(
                        Math.exp(-6),
                        op.forward(ps, new NDList(x), false, step(3)).head().sum().getFloat()
                                / (double) op.apply(ps, x, 0, false, null).sum().getFloat(),
                        1e-4,
                        name);
            }
        }
    }

    @Test
    void aStepThatIsNotANonNegativeIntegerIsNamed() {
        String valid = "\"step\" must be an Integer, Long, Short or Byte in 0 .. 2147483647, got ";
        assertEquals(0, StateOperator.step(null));
        assertEquals(7, StateOperator.step(step(7L)));
        Object[][] cases = {
            {-1, "-1 (Integer)"},
            {3.0, "3.0 (Double)"},
            {"3", "3 (String)"},
            {1L << 31, "2147483648 (Long)"},
            {null, "null"}
        };
        for (Object[] c : cases) {
            assertEquals(
                    valid + c[1],
                    assertThrows(
                                    IllegalArgumentException.class,
                                    () -> StateOperator.step(step(c[0])))
                            .getMessage());
        }
    }
}
