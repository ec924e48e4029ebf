package dfbmodels.translate;

import ai.djl.modality.cv.Image;
import ai.djl.modality.cv.output.CategoryMask;
import ai.djl.modality.cv.translator.BaseImageTranslator;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.translate.TranslatorContext;
import java.util.List;

/**
 * Turns an {@link Image} into a per-pixel {@link CategoryMask} with a segmenter whose output is
 * {@code (B, classes, H, W)} logits, such as the feedback DeepLabV3+.
 *
 * <p>The pre-processing (resize, {@code ToTensor}, ...) is the builder's pipeline, as in DJL's
 * image translators; the mask has the model's output size and holds, for every pixel, the index of
 * the class with the highest logit.
 */
public class SegmentationTranslator extends BaseImageTranslator<CategoryMask> {

    private final List<String> classes;

    SegmentationTranslator(Builder builder) {
        super(builder);
        this.classes = builder.classes;
    }

    /**
     * Returns a new builder.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /** {@inheritDoc} */
    @Override
    public CategoryMask processOutput(TranslatorContext ctx, NDList list) {
        NDArray logits = list.head();
        if (logits.getShape().dimension() == 4) {
            logits = logits.get(0);
        }
        if (logits.getShape().dimension() != 3 || logits.getShape().get(0) != classes.size()) {
            throw new IllegalArgumentException(
                    "expected logits of shape ("
                            + classes.size()
                            + ", H, W) for "
                            + classes.size()
                            + " classes, got "
                            + list.head().getShape());
        }
        NDArray best = logits.argMax(0).toType(DataType.INT32, false);
        int height = (int) best.getShape().get(0);
        int width = (int) best.getShape().get(1);
        int[] flat = best.toIntArray();
        int[][] mask = new int[height][width];
        for (int h = 0; h < height; h++) {
            System.arraycopy(flat, h * width, mask[h], 0, width);
        }
        return new CategoryMask(classes, mask);
    }

    /** Builds a {@link SegmentationTranslator}. */
    public static final class Builder extends BaseBuilder<Builder> {

        private List<String> classes;

        Builder() {}

        /**
         * Sets the class names, in the order of the model's output channels (required).
         *
         * @param classes the class names
         * @return this builder
         */
        public Builder setClasses(List<String> classes) {
            this.classes = List.copyOf(classes);
            return this;
        }

        /** {@inheritDoc} */
        @Override
        protected Builder self() {
            return this;
        }

        /**
         * Builds the translator.
         *
         * @return a new translator
         */
        public SegmentationTranslator build() {
            if (classes == null || classes.isEmpty()) {
                throw new IllegalArgumentException("setClasses needs at least one class name");
            }
            validate();
            return new SegmentationTranslator(this);
        }
    }
}
