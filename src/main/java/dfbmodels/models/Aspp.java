package dfbmodels.models;

import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.ParallelBlock;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.stream.Collectors;

/**
 * Atrous spatial pyramid pooling with separable convolutions, as in segmentation_models_pytorch:
 * five parallel branches ({@code convs}: a 1×1 conv, separable 3×3 convs with dilation 12, 24 and
 * 36, image pooling), each conv → BN → ReLU with {@code out} channels, concatenated and projected
 * ({@code project}: 1×1 conv 5·out → out, BN, ReLU, Dropout 0.5); {@code (B, in, H, W) -> (B, out,
 * H, W)}.
 */
class Aspp extends AbstractBlock {

    private static final int[] RATES = {12, 24, 36};

    private final ParallelBlock convs;
    private final SequentialBlock project;

    Aspp(int inChannels, int outChannels) {
        super((byte) 1);
        convs =
                new ParallelBlock(
                        branches ->
                                new NDList(
                                        NDArrays.concat(
                                                new NDList(
                                                        branches.stream()
                                                                .map(NDList::head)
                                                                .collect(Collectors.toList())),
                                                1)));
        convs.add(Layers.convBnRelu(Layers.decoderConv(outChannels, 1, 0, 1, 1, false)));
        for (int rate : RATES) {
            convs.add(Layers.convBnRelu(Layers.separable(inChannels, outChannels, rate, rate)));
        }
        convs.add(new AsppPooling(outChannels));
        addChildBlock("convs", convs);
        project =
                Layers.convBnRelu(Layers.decoderConv(outChannels, 1, 0, 1, 1, false))
                        .add(Dropout.builder().optRate(0.5f).build());
        addChildBlock("project", project);
    }

    /** {@inheritDoc} */
    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return project.forward(ps, convs.forward(ps, inputs, training), training);
    }

    /** {@inheritDoc} */
    @Override
    public Shape[] getOutputShapes(Shape[] inputs) {
        return project.getOutputShapes(convs.getOutputShapes(inputs));
    }

    /** {@inheritDoc} */
    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputs) {
        convs.initialize(manager, dataType, inputs);
        project.initialize(manager, dataType, convs.getOutputShapes(inputs));
    }
}
