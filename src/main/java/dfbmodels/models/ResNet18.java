package dfbmodels.models;

/**
 * Feedback ResNet18: {@link ResidualBlockType#BASIC} blocks, layers [2, 2, 2, 2]. See {@link
 * FeedbackResNet} for the structure and shapes.
 *
 * <pre>
 *   FeedbackBlock model = ResNet18.builder().setNumClasses(10).optFbFilters(8).build();
 * </pre>
 */
public final class ResNet18 {

    private ResNet18() {}

    /**
     * Returns a builder preset to ResNet18's block type and layers.
     *
     * @return a new builder; {@code setNumClasses} is still required
     */
    public static FeedbackResNet.Builder builder() {
        return FeedbackResNet.builder()
                .named("ResNet18")
                .setBlockType(ResidualBlockType.BASIC)
                .setLayers(2, 2, 2, 2);
    }
}
