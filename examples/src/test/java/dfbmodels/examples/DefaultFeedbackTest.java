package dfbmodels.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.Dataset;
import ai.djl.training.dataset.RandomAccessDataset;
import ai.djl.util.PairList;
import dfbmodels.FeedbackBlock;
import dfbmodels.models.ResNetStem;
import org.junit.jupiter.api.Test;

/**
 * The examples' default model gives a feedback that carries information: on real Fashion-MNIST test
 * images, the feedback tensor differs across images, across pixels and across steps, far from the
 * uniform softmax. As in the library's SmallInputFeedbackTest, the weights are untrained (fixed
 * seed, inference): whether the feedback is a spatial map is a property of the configuration (a 4×4
 * state, GroupNorm groups of two channels), which training does not change.
 */
class DefaultFeedbackTest {

    private static final int IMAGES = 8;

    private static float meanAbs(NDArray a) {
        return a.abs().mean().getFloat();
    }

    @Test
    void theDefaultConfigurationsFeedbackDiffersAcrossImagesPixelsAndSteps() throws Exception {
        Options o = Options.parse();
        assertEquals(ResNetStem.CIFAR, o.stem);
        assertEquals(16, o.width);
        assertEquals(16, o.fbFilters);
        try (NDManager m = NDManager.newBaseManager()) {
            RandomAccessDataset test =
                    MnistData.load(
                            "fashion-mnist",
                            RealData.fashion(),
                            m,
                            Dataset.Usage.TEST,
                            IMAGES,
                            IMAGES);
            Batch batch = test.getData(m).iterator().next();
            NDArray x = batch.getData().head();
            Engine.getInstance().setRandomSeed(7);
            FeedbackBlock net = o.model(true).optAtol(0f).build();
            net.initialize(m, DataType.FLOAT32, x.getShape());
            PairList<String, Object> params = new PairList<>();
            params.add(FeedbackBlock.ITERATIONS, 3);
            params.add(FeedbackBlock.RETURN_STATES, true);
            ParameterStore ps = new ParameterStore(m, false);
            NDList out = net.forward(ps, new NDList(x), false, params);
            // the state is 4x4: 8w + fb = 144 channels
            assertEquals(new Shape(IMAGES, 144, 4, 4), out.get(1).getShape());
            Shape x0 = net.getFrontend().getOutputShapes(new Shape[] {x.getShape()})[0];
            int fb = net.getFeedbackChannels();
            float uniform = 1f / fb;
            NDArray f1 = net.feedback(ps, out.get(1), x0.get(2), x0.get(3));
            NDArray f2 = net.feedback(ps, out.get(2), x0.get(2), x0.get(3));
            for (NDArray f : new NDArray[] {f1, f2}) {
                assertEquals(new Shape(IMAGES, fb, 28, 28), f.getShape());
                assertEquals(1f, f.sum(new int[] {1}).min().getFloat(), 1e-5f);
                float fromUniform = meanAbs(f.sub(uniform));
                assertTrue(fromUniform > 0.25f * uniform, "|f - 1/fb| = " + fromUniform);
                float spread =
                        meanAbs(f.sub(f.mean(new int[] {3}, true).mean(new int[] {2}, true)));
                assertTrue(spread > 0.25f * uniform, "spatial spread " + spread);
                for (int i = 1; i < IMAGES; i++) {
                    float d = meanAbs(f.get(i).sub(f.get(0)));
                    assertTrue(d > 0.25f * uniform, "image " + i + " vs 0: " + d);
                }
            }
            float step = meanAbs(f2.sub(f1));
            assertTrue(step > 0.1f * uniform, "|f_2 - f_1| = " + step);
            System.out.printf(
                    "default feedback (fb=%d): |f-1/fb| %.3f/fb, |f2-f1| %.3f/fb%n",
                    fb, meanAbs(f1.sub(uniform)) * fb, step * fb);
        }
    }
}
