package dfbmodels.translate;

import ai.djl.modality.Classifications;
import ai.djl.modality.cv.Image;
import ai.djl.modality.cv.output.CategoryMask;
import ai.djl.modality.cv.transform.Resize;
import ai.djl.modality.cv.transform.ToTensor;
import ai.djl.modality.cv.translator.ImageClassificationTranslator;
import ai.djl.translate.Translator;
import java.util.List;

/**
 * Ready-made {@link Translator}s for the feedback models, for {@code
 * model.newPredictor(translator)} on {@link Image}s.
 *
 * <p>Both resize the image to {@code width × height}, read it as RGB ({@code inChannels = 3}) or
 * grayscale ({@code inChannels = 1}) and scale pixels to {@code [0, 1]} ({@code ToTensor}), the
 * pre-processing of the examples. The model runs with its default number of iterations.
 */
public final class FeedbackTranslators {

    private FeedbackTranslators() {}

    /**
     * Image → {@link Classifications} (softmax probabilities) for the feedback classifiers
     * (ResNets, Vision Transformer); DJL's own {@link ImageClassificationTranslator}, configured.
     *
     * @param classes the class names, in the order of the model's outputs
     * @param inChannels 1 (grayscale) or 3 (RGB)
     * @param height the model's input height
     * @param width the model's input width
     * @return the translator
     */
    public static Translator<Image, Classifications> classification(
            List<String> classes, int inChannels, int height, int width) {
        return ImageClassificationTranslator.builder()
                .setImageSize(width, height)
                .optFlag(flag(inChannels))
                .addTransform(new Resize(width, height))
                .addTransform(new ToTensor())
                .optSynset(classes)
                .optApplySoftmax(true)
                .build();
    }

    /**
     * Image → {@link CategoryMask} for the feedback DeepLabV3+.
     *
     * @param classes the class names, in the order of the model's output channels
     * @param inChannels 1 (grayscale) or 3 (RGB)
     * @param height the model's input height, a multiple of 16
     * @param width the model's input width, a multiple of 16
     * @return the translator
     */
    public static Translator<Image, CategoryMask> segmentation(
            List<String> classes, int inChannels, int height, int width) {
        return SegmentationTranslator.builder()
                .setClasses(classes)
                .setImageSize(width, height)
                .optFlag(flag(inChannels))
                .addTransform(new Resize(width, height))
                .addTransform(new ToTensor())
                .build();
    }

    private static Image.Flag flag(int inChannels) {
        if (inChannels == 1) {
            return Image.Flag.GRAYSCALE;
        }
        if (inChannels == 3) {
            return Image.Flag.COLOR;
        }
        throw new IllegalArgumentException(
                "images have 1 (grayscale) or 3 (RGB) channels, got inChannels=" + inChannels);
    }
}
