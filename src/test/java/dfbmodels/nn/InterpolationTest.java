package dfbmodels.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import org.junit.jupiter.api.Test;

class InterpolationTest {

    @Test
    void bilinearFollowsPyTorchForBothAlignCornersSettings() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(new double[] {0, 1, 2, 3}).reshape(1, 1, 2, 2);
            // align_corners=False: source coordinate (i + 0.5) / 2 - 0.5, clamped at 0
            double[] row0 = {0, 0.25, 0.75, 1};
            double[] want = new double[16];
            double[] rowFactor = {0, 0.25, 0.75, 1};
            for (int i = 0; i < 4; i++) {
                for (int j = 0; j < 4; j++) {
                    want[i * 4 + j] = row0[j] + 2 * rowFactor[i];
                }
            }
            NDArray up = Interpolation.bilinear(x, 4, 4, false);
            assertArrayEquals(want, up.toDoubleArray(), 1e-12);
            // align_corners=True: source coordinate i * (2 - 1) / (3 - 1)
            NDArray aligned = Interpolation.bilinear(x, 3, 3, true);
            assertArrayEquals(
                    new double[] {0, 0.5, 1, 1, 1.5, 2, 2, 2.5, 3}, aligned.toDoubleArray(), 1e-12);
            NDArray f32 = Interpolation.bilinear(x.toType(DataType.FLOAT32, false), 3, 3, true);
            assertArrayEquals(
                    new float[] {0, 0.5f, 1, 1, 1.5f, 2, 2, 2.5f, 3}, f32.toFloatArray(), 1e-6f);
        }
    }
}
