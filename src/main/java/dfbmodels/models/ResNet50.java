package dfbmodels.models;

/**
 * Feedback ResNet50: {@link ResidualBlockType#BOTTLENECK} blocks, layers [3, 4, 6, 3]. See {@link
 * FeedbackResNet} for the structure and shapes.
 *
 * <pre>
 *   FeedbackBlock model = ResNet50.builder().setNumClasses(10).optFbFilters(8).build();
 * </pre>
 */
public final class ResNet50 {

    private ResNet50() {}

    /**
     * Returns a builder preset to ResNet50's block type and layers.
     *
     * @return a new builder; {@code setNumClasses} is still required
     */
    public static FeedbackResNet.Builder builder() {
        return FeedbackResNet.builder()
                .named("ResNet50")
                .setBlockType(ResidualBlockType.BOTTLENECK)
                .setLayers(3, 4, 6, 3);
    }
}
