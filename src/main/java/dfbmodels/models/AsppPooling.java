package dfbmodels.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.LambdaBlock;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dfbmodels.nn.Interpolation;

/**
 * ASPP's image-pooling branch: global average pool, 1×1 conv, BN, ReLU, then bilinear resize back
 * to the input's size; {@code (B, C, H, W) -> (B, out, H, W)}. Indexed like smp's {@code
 * ASPPPooling(nn.Sequential)}: 0 pool, 1 conv, 2 BN, 3 ReLU.
 */
class AsppPooling extends SequentialBlock {

    AsppPooling(int outChannels) {
        add(
                new LambdaBlock(
                        list -> {
                            Shape s = list.head().getShape();
                            return new NDList(
                                    Pool.globalAvgPool2d(list.head())
                                            .reshape(s.get(0), s.get(1), 1, 1));
                        },
                        "AdaptiveAvgPool2d"));
        add(Layers.decoderConv(outChannels, 1, 0, 1, 1, false));
        add(Layers.batchNorm());
        add(Activation.reluBlock());
    }

    /** {@inheritDoc} */
    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        Shape in = inputs.head().getShape();
        NDArray pooled = super.forwardInternal(ps, inputs, training, params).head();
        return new NDList(Interpolation.bilinear(pooled, in.get(2), in.get(3), false));
    }

    /** {@inheritDoc} */
    @Override
    public Shape[] getOutputShapes(Shape[] inputs) {
        Shape out = super.getOutputShapes(inputs)[0];
        return new Shape[] {new Shape(out.get(0), out.get(1), inputs[0].get(2), inputs[0].get(3))};
    }
}
