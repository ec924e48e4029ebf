package dfbmodels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import dfbmodels.models.ResNet18;
import org.junit.jupiter.api.Test;

/** Misuse ends in a message that names the argument, its value and what would be valid. */
class ValidationTest {

    private static FeedbackBlock mnist(boolean checkFinite) {
        return ResNet18.builder()
                .setNumClasses(10)
                .optInChannels(1)
                .optIterations(1)
                .optCheckFinite(checkFinite)
                .build();
    }

    private static String forwardError(FeedbackBlock model, NDManager m, NDArray x) {
        return assertThrows(
                        IllegalArgumentException.class,
                        () -> model.forward(new ParameterStore(m, false), new NDList(x), false))
                .getMessage();
    }

    @Test
    void wrongRankAndChannelCount() {
        try (NDManager m = NDManager.newBaseManager()) {
            FeedbackBlock model = mnist(false);
            model.initialize(m, DataType.FLOAT32, new Shape(1, 1, 28, 28));
            assertEquals(
                    "input must have shape (B, 1, H, W), got (28, 28)",
                    forwardError(model, m, m.zeros(new Shape(28, 28))));
            assertEquals(
                    "input must have 1 channels, shape (B, 1, H, W), got (2, 3, 28, 28)",
                    forwardError(model, m, m.zeros(new Shape(2, 3, 28, 28))));
            assertEquals(
                    "input must not be empty, got (0, 1, 28, 28)",
                    forwardError(model, m, m.zeros(new Shape(0, 1, 28, 28))));
            IllegalArgumentException e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () ->
                                    mnist(false)
                                            .initialize(
                                                    m, DataType.FLOAT32, new Shape(1, 3, 28, 28)));
            assertEquals(
                    "input must have 1 channels, shape (B, 1, H, W), got (1, 3, 28, 28)",
                    e.getMessage());
        }
    }

    @Test
    void nanAndInfinityAreRejectedWhenCheckingIsOn() {
        try (NDManager m = NDManager.newBaseManager()) {
            FeedbackBlock checked = mnist(true);
            checked.initialize(m, DataType.FLOAT32, new Shape(1, 1, 28, 28));
            NDArray x = m.zeros(new Shape(2, 1, 28, 28));
            x.set(new NDIndex(1, 0, 3, 4), Float.NaN);
            assertEquals(
                    "input of shape (2, 1, 28, 28) contains NaN or infinite values",
                    forwardError(checked, m, x));
            NDArray inf = m.zeros(new Shape(1, 1, 28, 28));
            inf.set(new NDIndex(0, 0, 0, 0), Float.POSITIVE_INFINITY);
            assertEquals(
                    "input of shape (1, 1, 28, 28) contains NaN or infinite values",
                    forwardError(checked, m, inf));
            // off by default: the NaN flows through
            FeedbackBlock unchecked = mnist(false);
            unchecked.initialize(m, DataType.FLOAT32, new Shape(1, 1, 28, 28));
            NDArray out =
                    unchecked.forward(new ParameterStore(m, false), new NDList(x), false).head();
            assertEquals(true, out.get(1).isNaN().any().getBoolean());
        }
    }
}
