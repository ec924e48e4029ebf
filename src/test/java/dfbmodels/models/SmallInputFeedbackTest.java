package dfbmodels.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dfbmodels.FashionMnistSample;
import dfbmodels.FeedbackBlock;
import org.junit.jupiter.api.Test;

/**
 * What the feedback carries at 28×28, on real Fashion-MNIST images.
 *
 * <p>The models are untrained (fixed seed, inference mode). That is enough, because what is
 * asserted is structural: with torchvision's stem the state is 1×1, the resized feedback is a
 * constant map per channel, and a GroupNorm group of one channel normalises a constant map to 0, so
 * the feedback is the uniform softmax for <em>any</em> weights (docs/math.md); with the CIFAR stem
 * the state is 4×4 and its bilinear resize is a map whose pattern GroupNorm keeps, so the feedback
 * depends on the image and the step for generic weights. Training changes the values, not which of
 * the two cases a configuration is in.
 */
class SmallInputFeedbackTest {

    private static final int IMAGES = 8;

    /** {@code f_1} and {@code f_2} (the feedback of steps 1 and 2) for the first real images. */
    private static NDList feedback(NDManager m, ResNetStem stem, int fb) throws Exception {
        Engine.getInstance().setRandomSeed(7);
        FeedbackBlock net =
                ResNet18.builder()
                        .setNumClasses(10)
                        .optInChannels(1)
                        .optStem(stem)
                        .optFbFilters(fb)
                        .optAtol(0f)
                        .build();
        NDArray x = FashionMnistSample.images(m, IMAGES);
        net.initialize(m, DataType.FLOAT32, x.getShape());
        PairList<String, Object> params = new PairList<>();
        params.add(FeedbackBlock.ITERATIONS, 3);
        params.add(FeedbackBlock.RETURN_STATES, true);
        ParameterStore ps = new ParameterStore(m, false);
        NDList out = net.forward(ps, new NDList(x), false, params);
        Shape x0 = net.getFrontend().getOutputShapes(new Shape[] {x.getShape()})[0];
        return new NDList(
                net.feedback(ps, out.get(1), x0.get(2), x0.get(3)),
                net.feedback(ps, out.get(2), x0.get(2), x0.get(3)));
    }

    private static float meanAbs(NDArray a) {
        return a.abs().mean().getFloat();
    }

    /** Mean distance of every pixel's value from its channel's spatial mean. */
    private static float spatialSpread(NDArray f) {
        return meanAbs(f.sub(f.mean(new int[] {3}, true).mean(new int[] {2}, true)));
    }

    @Test
    void cifarStemFeedbackIsASpatialMapThatDiffersAcrossImagesAndSteps() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            int fb = 8;
            NDList f = feedback(m, ResNetStem.CIFAR, fb);
            float uniform = 1f / fb;
            for (NDArray ft : f) {
                assertEquals(new Shape(IMAGES, fb, 28, 28), ft.getShape());
                assertEquals(1f, ft.sum(new int[] {1}).min().getFloat(), 1e-5f);
                // far from the uniform 1/fb: on average by more than a quarter of it (0.83 of it
                // was measured at both steps)
                float fromUniform = meanAbs(ft.sub(uniform));
                assertTrue(fromUniform > 0.25f * uniform, "|f - 1/fb| = " + fromUniform);
                // a map: pixels differ from their channel's mean as much (measured 0.82/fb)
                float spread = spatialSpread(ft);
                assertTrue(spread > 0.25f * uniform, "spatial spread " + spread);
                // each image gets its own feedback (measured 0.55 to 0.73 of 1/fb)
                for (int i = 1; i < IMAGES; i++) {
                    float d = meanAbs(ft.get(i).sub(ft.get(0)));
                    assertTrue(d > 0.25f * uniform, "image " + i + " vs 0: " + d);
                }
            }
            // and it changes from step to step (measured 0.21 of 1/fb)
            float step = meanAbs(f.get(1).sub(f.get(0)));
            assertTrue(step > 0.1f * uniform, "|f_2 - f_1| = " + step);
        }
    }

    @Test
    void imagenetStemFeedbackAt28PixelsIsUniformOrOneVectorPerImage() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            // fb 8, one channel per group: the uniform softmax to rounding, at every step
            for (NDArray ft : feedback(m, ResNetStem.IMAGENET, 8)) {
                float max = ft.sub(1f / 8).abs().max().getFloat();
                assertTrue(max < 1e-4f, "max |f - 1/8| = " + max);
            }
            // fb 16: not uniform, but the same value at every pixel
            for (NDArray ft : feedback(m, ResNetStem.IMAGENET, 16)) {
                assertTrue(meanAbs(ft.sub(1f / 16)) > 0.25f / 16);
                float spread = spatialSpread(ft);
                assertTrue(spread < 1e-6f, "spatial spread " + spread);
            }
        }
    }
}
