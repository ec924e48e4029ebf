package dfbmodels.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Conv2d;
import org.junit.jupiter.api.Test;

class ConvolutionCheckTest {

    /** After the check, a float32 convolution over 72 channels (64 + fb 8) equals float64's. */
    @Test
    void float32ConvolutionsAreExactAfterTheCheck() {
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            ConvolutionCheck.ensureCorrect(m.zeros(new Shape(1)));
            assertEquals(0, ConvolutionCheck.probe(m, Device.cpu()), 1e-5, "probe after the check");
            NDArray x = m.arange(0f, 4 * 72 * 8 * 8, 1f).reshape(4, 72, 8, 8).mul(0.11).cos();
            NDArray w = m.arange(0f, 20 * 72 * 9, 1f).reshape(20, 72, 3, 3).mul(0.37).sin();
            Shape one = new Shape(1, 1);
            NDArray y32 =
                    Conv2d.conv2d(x, w, null, one, one, one, 1)
                            .head()
                            .toType(DataType.FLOAT64, false);
            NDArray y64 =
                    Conv2d.conv2d(
                                    x.toType(DataType.FLOAT64, false),
                                    w.toType(DataType.FLOAT64, false),
                                    null,
                                    one,
                                    one,
                                    one,
                                    1)
                            .head();
            double error = y32.sub(y64).abs().max().getDouble() / y64.abs().max().getDouble();
            System.out.printf(
                    "convolution check: fault error before %.2g, 72-channel error after %.2g%n",
                    ConvolutionCheck.faultError(), error);
            assertEquals(0, error, 1e-5);
        }
    }

    /**
     * An NNPACK that cannot initialise on this CPU is switched off whatever the probe found (with
     * {@code DNNL_MAX_CPU_ISA=SSE41} and one thread, it was asked at every 1x1 convolution and
     * logged a warning each time: 1,525 lines in one robustness run).
     */
    @Test
    void nnpackIsNotAskedWhereItCannotInitialise() {
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            ConvolutionCheck.ensureCorrect(m.zeros(new Shape(1)));
            System.out.println("NNPACK available here: " + ConvolutionCheck.nnpackAvailable());
            assertFalse(
                    !ConvolutionCheck.nnpackAvailable() && ConvolutionCheck.nnpackEnabled(),
                    "NNPACK cannot initialise here but is still asked");
        }
    }
}
