package dfbmodels.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

class SegmentationMetricsTest {

    /** Logits (B, 3, H, W) that predict the given class map (one-hot times 5). */
    private static NDArray logitsFor(NDManager m, long[] classes, int b, int h, int w) {
        float[] logits = new float[b * 3 * h * w];
        for (int n = 0; n < b; n++) {
            for (int p = 0; p < h * w; p++) {
                int c = (int) classes[n * h * w + p];
                logits[(n * 3 + c) * h * w + p] = 5;
            }
        }
        return m.create(logits, new Shape(b, 3, h, w));
    }

    @Test
    void countsAndMetricsOfAHandCase() {
        try (NDManager m = NDManager.newBaseManager()) {
            // one 2x3 image, classes 0..2
            long[] pred = {0, 0, 1, 1, 2, 2};
            long[] label = {0, 1, 1, 1, 0, 2};
            // class 0: TP 1, P 2, L 2 -> IoU 1/3, Dice 1/2
            // class 1: TP 2, P 2, L 3 -> IoU 2/3, Dice 4/5
            // class 2: TP 1, P 2, L 1 -> IoU 1/2, Dice 2/3
            NDList predictions = new NDList(logitsFor(m, pred, 1, 2, 3));
            NDList labels = new NDList(m.create(label, new Shape(1, 1, 2, 3)));
            MeanIoU miou = new MeanIoU(3);
            miou.addAccumulator("k");
            miou.updateAccumulator("k", labels, predictions);
            assertArrayEquals(new long[][] {{1, 2, 1}, {2, 2, 2}, {2, 3, 1}}, miou.getCounts("k"));
            assertArrayEquals(new double[] {1 / 3.0, 2 / 3.0, 0.5}, miou.getClassIoU("k"), 1e-12);
            assertEquals((1 / 3.0 + 2 / 3.0 + 0.5) / 3, miou.getAccumulator("k"), 1e-6);
            assertEquals(
                    (1 / 3.0 + 2 / 3.0 + 0.5) / 3,
                    miou.evaluate(labels, predictions).getFloat(),
                    1e-6);
            assertEquals(2 / 3.0, eval(new ClassIoU(3, 1), labels, predictions), 1e-6);
            assertEquals((0.5 + 0.8 + 2 / 3.0) / 3, eval(new Dice(3), labels, predictions), 1e-6);
            assertEquals(2 / 3.0, eval(new Dice(3, 2), labels, predictions), 1e-6);
            assertEquals(4 / 6.0, eval(new PixelAccuracy(3), labels, predictions), 1e-6);
            // (B, H, W) labels and one-hot (B, C, H, W) labels give the same counts
            assertEquals(
                    miou.getAccumulator("k"),
                    eval(
                            new MeanIoU(3),
                            new NDList(m.create(label, new Shape(1, 2, 3))),
                            predictions),
                    1e-7);
            NDArray oneHot = logitsFor(m, label, 1, 2, 3).div(5);
            assertEquals(
                    miou.getAccumulator("k"),
                    eval(new MeanIoU(3), new NDList(oneHot), predictions),
                    1e-7);
        }
    }

    private static double eval(SegmentationEvaluator e, NDList labels, NDList predictions) {
        e.addAccumulator("x");
        e.updateAccumulator("x", labels, predictions);
        return e.getAccumulator("x");
    }

    @Test
    void accumulatesPixelsNotBatchAveragesAndSkipsAbsentClasses() {
        try (NDManager m = NDManager.newBaseManager()) {
            MeanIoU miou = new MeanIoU(3);
            ClassIoU two = new ClassIoU(3, 2);
            miou.addAccumulator("k");
            two.addAccumulator("k");
            // batch 1: all background, predicted right; class 1 and 2 absent
            NDList l1 = new NDList(m.zeros(new Shape(1, 1, 2, 2), DataType.INT64));
            NDList p1 = new NDList(logitsFor(m, new long[4], 1, 2, 2));
            miou.updateAccumulator("k", l1, p1);
            two.updateAccumulator("k", l1, p1);
            assertEquals(1.0, miou.getAccumulator("k"), 1e-7, "absent classes do not count");
            assertTrue(Float.isNaN(two.getAccumulator("k")), "class 2 is still undefined");
            // batch 2: one class-1 pixel predicted as 0
            NDList l2 = new NDList(m.create(new long[] {1, 0, 0, 0}, new Shape(1, 1, 2, 2)));
            miou.updateAccumulator("k", l2, p1);
            // class 0: TP 7, P 8, L 7 -> 7/8; class 1: TP 0, P 0, L 1 -> 0
            assertEquals((7 / 8.0 + 0) / 2, miou.getAccumulator("k"), 1e-7);
            miou.resetAccumulator("k");
            assertTrue(Float.isNaN(miou.getAccumulator("k")));
        }
    }

    @Test
    void badInputsAreExplained() {
        try (NDManager m = NDManager.newBaseManager()) {
            MeanIoU miou = new MeanIoU(3);
            NDList p = new NDList(m.zeros(new Shape(1, 3, 2, 2)));
            IllegalArgumentException e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> miou.evaluate(new NDList(m.zeros(new Shape(1, 1, 3, 2))), p));
            assertEquals(
                    "MeanIoU expects labels of shape (B, 1, H, W), (B, H, W) or (B, C, H, W) for"
                            + " predictions (1, 3, 2, 2), got (1, 1, 3, 2)",
                    e.getMessage());
            e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () ->
                                    miou.evaluate(
                                            new NDList(m.zeros(new Shape(1, 1, 2, 2))),
                                            new NDList(m.zeros(new Shape(1, 2, 2, 2)))));
            assertEquals(
                    "MeanIoU expects predictions of shape (B, 3, H, W), got (1, 2, 2, 2)",
                    e.getMessage());
            e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () ->
                                    miou.evaluate(
                                            new NDList(
                                                    m.create(
                                                            new long[] {0, 1, 7, 0},
                                                            new Shape(1, 1, 2, 2))),
                                            p));
            assertEquals("MeanIoU: 1 label(s) outside the classes 0..2", e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> new ClassIoU(2, 2));
            assertEquals("classIndex must be in [0, 2), got 2", e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> new MeanIoU(1));
            assertEquals(
                    "numClasses must be at least 2 (background included), got 1", e.getMessage());
        }
    }
}
