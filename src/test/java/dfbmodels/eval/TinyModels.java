package dfbmodels.eval;

import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Blocks;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.pooling.Pool;
import dfbmodels.FeedbackBlock;

/** Tiny feedback models for the evaluation tests. */
final class TinyModels {

    static final int CLASS_CHANNELS = 8;
    static final int FB = 4;
    static final float TAU = 2f;

    private TinyModels() {}

    /**
     * A classifier: conv frontend, one strided conv as body, pooled linear readout to 3 classes.
     */
    static FeedbackBlock classifier(float atol, boolean feedback) {
        return FeedbackBlock.builder()
                .setFrontend(new SequentialBlock().add(conv(4, 3, 1)).add(Activation.reluBlock()))
                .setBody(new SequentialBlock().add(conv(CLASS_CHANNELS + FB, 3, 2)))
                .setReadout(
                        new SequentialBlock()
                                .add(Pool.globalAvgPool2dBlock())
                                .add(Blocks.batchFlattenBlock())
                                .add(Linear.builder().setUnits(3).build()))
                .setClassChannels(CLASS_CHANNELS)
                .setFeedbackChannels(FB)
                .optErrorGroups(4)
                .optFeedbackGroups(2)
                .optIterations(3)
                .optAtol(atol)
                .optTau(TAU)
                .optFeedback(feedback)
                .build();
    }

    /** A segmenter: full-resolution state, 1×1 conv readout to 3 classes per pixel. */
    static FeedbackBlock segmenter() {
        return FeedbackBlock.builder()
                .setFrontend(new SequentialBlock().add(conv(4, 3, 1)).add(Activation.reluBlock()))
                .setBody(new SequentialBlock().add(conv(CLASS_CHANNELS + FB, 3, 1)))
                .setReadout(new SequentialBlock().add(conv(3, 1, 1)))
                .setClassChannels(CLASS_CHANNELS)
                .setFeedbackChannels(FB)
                .optErrorGroups(4)
                .optFeedbackGroups(2)
                .optIterations(3)
                .optAtol(0f)
                .optTau(TAU)
                .build();
    }

    private static Conv2d conv(int filters, int kernel, int stride) {
        return Conv2d.builder()
                .setKernelShape(new Shape(kernel, kernel))
                .setFilters(filters)
                .optStride(new Shape(stride, stride))
                .optPadding(new Shape(kernel / 2, kernel / 2))
                .build();
    }
}
