package dfbmodels.models;

/**
 * Feedback ResNet34: {@link ResidualBlockType#BASIC} blocks, layers [3, 4, 6, 3]. See {@link
 * FeedbackResNet} for the structure and shapes.
 *
 * <pre>
 *   FeedbackBlock model = ResNet34.builder().setNumClasses(10).optFbFilters(8).build();
 * </pre>
 */
public final class ResNet34 {

    private ResNet34() {}

    /**
     * Returns a builder preset to ResNet34's block type and layers.
     *
     * @return a new builder; {@code setNumClasses} is still required
     */
    public static FeedbackResNet.Builder builder() {
        return FeedbackResNet.builder()
                .named("ResNet34")
                .setBlockType(ResidualBlockType.BASIC)
                .setLayers(3, 4, 6, 3);
    }
}
