package dfbmodels.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.NormalInitializer;
import ai.djl.training.initializer.XavierInitializer;
import ai.djl.util.PairList;
import dfbmodels.nn.Interpolation;

/**
 * The Vision Transformer's frontend (SPEC §7): {@code conv_proj}, a {@code p×p} convolution of
 * stride {@code p} ({@code Cin -> D}), plus a learned position embedding on the patch grid; {@code
 * (B, Cin, H, W) -> (B, D, H/p, W/p)}.
 *
 * <p>{@code pos_embedding} has torchvision's token layout {@code (1, N, D)}, {@code N = (S/p)²} for
 * the configured image size {@code S}, tokens in row-major grid order (what {@code
 * conv_proj(x).flatten(2).transpose(1, 2)} gives): it is torchvision's {@code
 * encoder.pos_embedding} without its first row, which belongs to the class token this model does
 * not have. For another grid size it is resized bilinearly ({@code align_corners=False}) on the
 * grid, as timm does.
 */
final class PatchEmbedding extends AbstractBlock {

    private final int hiddenDim;
    private final int grid;
    private final Conv2d convProj;
    private final Parameter posEmbedding;

    PatchEmbedding(int hiddenDim, int patchSize, int imageSize) {
        super((byte) 1);
        this.hiddenDim = hiddenDim;
        this.grid = imageSize / patchSize;
        convProj =
                addChildBlock(
                        "conv_proj",
                        Conv2d.builder()
                                .setKernelShape(new Shape(patchSize, patchSize))
                                .optStride(new Shape(patchSize, patchSize))
                                .setFilters(hiddenDim)
                                .build());
        // torchvision: trunc_normal(std = sqrt(1 / fan_in)) truncated at ±2, many std away
        convProj.setInitializer(
                new XavierInitializer(
                        XavierInitializer.RandomType.GAUSSIAN, XavierInitializer.FactorType.IN, 1f),
                Parameter.Type.WEIGHT);
        posEmbedding =
                addParameter(
                        Parameter.builder()
                                .setName("pos_embedding")
                                // not WEIGHT: an initializer set for all weights must not reach it
                                .setType(Parameter.Type.OTHER)
                                .optInitializer(new NormalInitializer(0.02f))
                                .optShape(new Shape(1, (long) grid * grid, hiddenDim))
                                .build());
    }

    /** {@inheritDoc} */
    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = convProj.forward(ps, inputs, training).head();
        long h = x.getShape().get(2);
        long w = x.getShape().get(3);
        NDArray posArr = ps.getValue(posEmbedding, x.getDevice(), training);
        // arrays computed from a parameter would land in the parameter's (the model's) manager
        try (NDManager scope = x.getManager().newSubManager()) {
            scope.tempAttachAll(posArr);
            NDArray pos = posArr.transpose(0, 2, 1).reshape(1, hiddenDim, grid, grid);
            if (h != grid || w != grid) {
                pos = Interpolation.bilinear(pos, h, w, false);
            }
            NDArray out = x.add(pos);
            out.attach(x.getManager());
            return new NDList(out);
        }
    }

    /** {@inheritDoc} */
    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return convProj.getOutputShapes(inputShapes);
    }

    /** {@inheritDoc} */
    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputs) {
        convProj.initialize(manager, dataType, inputs);
    }
}
