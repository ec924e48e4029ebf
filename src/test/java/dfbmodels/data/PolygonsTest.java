package dfbmodels.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.Record;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class PolygonsTest {

    private static Polygons.Builder base() {
        return Polygons.builder().setSize(500).setSampling(4, false);
    }

    @Test
    void recordsHaveTheDocumentedShapesTypesAndRanges() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            Polygons data = base().optSigma(2f).optResolution(64, 96).build();
            assertEquals(500, data.size());
            assertEquals(2, data.getNumClasses());
            Record r = data.get(m, 3);
            NDArray x = r.getData().singletonOrThrow();
            NDArray y = r.getLabels().singletonOrThrow();
            assertEquals(new Shape(3, 64, 96), x.getShape());
            assertEquals(DataType.FLOAT32, x.getDataType());
            assertEquals(0f, x.min().getFloat());
            assertEquals(1f, x.max().getFloat());
            assertEquals(new Shape(1, 64, 96), y.getShape());
            assertEquals(DataType.INT64, y.getDataType());
            long[] labels = y.toLongArray();
            int[] mask = data.mask(3);
            for (int p = 0; p < mask.length; p++) {
                assertEquals(mask[p], labels[p]);
            }
            assertTrue(Arrays.stream(mask).allMatch(v -> v == 0 || v == 1));
            // one-hot labels, as the original
            Polygons hot = base().optOneHotLabels(true).optShapes(2).build();
            NDArray oh = hot.get(m, 3).getLabels().singletonOrThrow();
            assertEquals(new Shape(3, 64, 64), oh.getShape());
            assertEquals(1f, oh.sum(new int[] {0}).min().getFloat());
            long[] argmax = oh.argMax(0).toLongArray();
            int[] hotMask = hot.mask(3);
            for (int p = 0; p < hotMask.length; p++) {
                assertEquals(hotMask[p], argmax[p]);
            }
            for (Batch b : data.getData(m)) {
                assertEquals(new Shape(4, 3, 64, 96), b.getData().head().getShape());
                assertEquals(new Shape(4, 1, 64, 96), b.getLabels().head().getShape());
                b.close();
                break;
            }
        }
    }

    @Test
    void withoutNoiseTheImageIsTheMaskInEveryChannel() {
        Polygons data = base().build();
        int[] mask = data.mask(7);
        float[] image = data.image(7);
        assertEquals(3 * mask.length, image.length);
        for (int c = 0; c < 3; c++) {
            for (int p = 0; p < mask.length; p++) {
                assertEquals(mask[p], image[c * mask.length + p]);
            }
        }
    }

    @Test
    void seededGeometryAndNoise() {
        Polygons a = base().optSigma(3f).optSeed(5).optFreshNoise(false).build();
        Polygons b = base().optSigma(3f).optSeed(5).optFreshNoise(false).build();
        Polygons other = base().optSigma(3f).optSeed(6).optFreshNoise(false).build();
        Polygons noisier = base().optSigma(8f).optSeed(5).optFreshNoise(false).build();
        assertArrayEquals(a.mask(9), b.mask(9));
        assertArrayEquals(a.image(9), b.image(9));
        assertArrayEquals(a.image(9), a.image(9), "fixed noise: every read is the same");
        assertFalse(Arrays.equals(a.mask(9), other.mask(9)));
        assertArrayEquals(a.mask(9), noisier.mask(9), "the same polygons at every sigma");
        // fresh noise: every read differs, and the sequence of reads is reproducible
        Polygons f1 = base().optSigma(3f).optSeed(5).build();
        Polygons f2 = base().optSigma(3f).optSeed(5).build();
        float[] first = f1.image(9);
        float[] second = f1.image(9);
        assertFalse(Arrays.equals(first, second));
        assertArrayEquals(first, f2.image(9));
        assertArrayEquals(second, f2.image(9));
        assertArrayEquals(a.image(9), first, "a fixed draw is the first fresh one");
    }

    @Test
    void polygonsHaveThePapersSizesAndKinds() {
        // triangles of circumradius r ~ U(H/10, H/4): area (3 sqrt 3 / 4) r^2, 173 px on average
        // at 64x64 before the border cuts some of them
        Polygons triangles = base().build();
        double area = 0;
        int empty = 0;
        for (int i = 0; i < 500; i++) {
            long fg = Arrays.stream(triangles.mask(i)).filter(v -> v == 1).count();
            area += fg;
            empty += fg == 0 ? 1 : 0;
        }
        area /= 500;
        assertTrue(area > 110 && area < 173, "mean triangle area " + area);
        assertTrue(empty < 5, empty + " empty masks");
        // three kinds: triangles, quadrilaterals, pentagons (labels 1, 2, 3), each ~1/3
        Polygons kinds = base().optShapes(3).build();
        int[] count = new int[4];
        for (int i = 0; i < 300; i++) {
            count[Arrays.stream(kinds.mask(i)).max().getAsInt()]++;
        }
        for (int k = 1; k <= 3; k++) {
            assertTrue(count[k] > 70, "kind " + k + ": " + Arrays.toString(count));
        }
    }

    @Test
    void badSettingsAreExplained() {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> Polygons.builder().setSampling(1, false).build());
        assertEquals("size must be set (setSize) to 1 .. 2147483647, got -1", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> base().optSigma(-1f).build());
        assertEquals("sigma must be >= 0 and finite, got -1.0", e.getMessage());
        IndexOutOfBoundsException o =
                assertThrows(IndexOutOfBoundsException.class, () -> base().build().mask(500));
        assertEquals("polygon index must be in [0, 500), got 500", o.getMessage());
    }
}
