package dfbmodels.models;

import ai.djl.nn.Block;

/** The two residual blocks of ResNet. */
public enum ResidualBlockType {
    /** Two 3×3 convolutions; expansion 1 (ResNet18/34). */
    BASIC(1),
    /** 1×1, 3×3, 1×1 convolutions; expansion 4 (ResNet50 and deeper). */
    BOTTLENECK(4);

    private final int expansion;

    ResidualBlockType(int expansion) {
        this.expansion = expansion;
    }

    /**
     * Returns the ratio of a block's output channels to its planes.
     *
     * @return 1 for {@link #BASIC}, 4 for {@link #BOTTLENECK}
     */
    public int expansion() {
        return expansion;
    }

    Block create(int planes, int stride, int dilation, Block downsample) {
        return this == BASIC
                ? new BasicBlock(planes, stride, dilation, downsample)
                : new Bottleneck(planes, stride, dilation, downsample);
    }
}
