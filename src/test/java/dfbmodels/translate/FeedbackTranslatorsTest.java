package dfbmodels.translate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.inference.Predictor;
import ai.djl.modality.Classifications;
import ai.djl.modality.cv.Image;
import ai.djl.modality.cv.ImageFactory;
import ai.djl.modality.cv.output.CategoryMask;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import dfbmodels.FeedbackBlock;
import dfbmodels.models.DeepLabV3Plus;
import dfbmodels.models.ResNet18;
import dfbmodels.models.VisionTransformer;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.util.List;
import org.junit.jupiter.api.Test;

class FeedbackTranslatorsTest {

    private static final List<String> DIGITS =
            List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9");

    /** A white "7" drawn on black, without anti-aliasing, so every pixel is 0 or 255. */
    private static BufferedImage seven(int size) {
        BufferedImage img = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(Color.WHITE);
        g.setStroke(new BasicStroke(size / 10f));
        g.drawLine(size / 5, size / 5, 4 * size / 5, size / 5);
        g.drawLine(4 * size / 5, size / 5, 2 * size / 5, 4 * size / 5);
        g.dispose();
        return img;
    }

    /** Pixels / 255 as (1, C, H, W), read straight from the AWT image. */
    private static NDArray tensor(NDManager m, BufferedImage img, int channels) {
        int h = img.getHeight();
        int w = img.getWidth();
        float[] data = new float[channels * h * w];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int rgb = img.getRGB(x, y);
                int[] c = {(rgb >> 16) & 0xff, (rgb >> 8) & 0xff, rgb & 0xff};
                for (int k = 0; k < channels; k++) {
                    data[(k * h + y) * w + x] = (channels == 1 ? c[0] : c[k]) / 255f;
                }
            }
        }
        return m.create(data, new Shape(1, channels, h, w));
    }

    @Test
    void classifiesADrawnDigitLikeTheBlockDoes() throws Exception {
        Engine.getInstance().setRandomSeed(3);
        try (Model model = Model.newInstance("digits")) {
            FeedbackBlock block =
                    ResNet18.builder().setNumClasses(10).optInChannels(1).optIterations(2).build();
            model.setBlock(block);
            block.initialize(model.getNDManager(), DataType.FLOAT32, new Shape(1, 1, 28, 28));
            BufferedImage img = seven(28);
            Image image = ImageFactory.getInstance().fromImage(img);
            Classifications result;
            try (Predictor<Image, Classifications> predictor =
                    model.newPredictor(FeedbackTranslators.classification(DIGITS, 1, 28, 28))) {
                result = predictor.predict(image);
            }
            try (NDManager m = NDManager.newBaseManager()) {
                NDArray probs =
                        block.forward(
                                        new ParameterStore(m, false),
                                        new NDList(tensor(m, img, 1)),
                                        false)
                                .head()
                                .softmax(1);
                double[] want = probs.toType(DataType.FLOAT64, false).toDoubleArray();
                double[] got = new double[10];
                for (int i = 0; i < 10; i++) {
                    got[i] = result.get(DIGITS.get(i)).getProbability();
                }
                assertArrayEquals(want, got, 1e-5);
                assertEquals(
                        DIGITS.get((int) probs.argMax(1).getLong(0)), result.best().getClassName());
            }
            // a larger picture is resized to the model's input
            try (Predictor<Image, Classifications> predictor =
                    model.newPredictor(FeedbackTranslators.classification(DIGITS, 1, 28, 28))) {
                Classifications big =
                        predictor.predict(ImageFactory.getInstance().fromImage(seven(56)));
                double sum = big.items().stream().mapToDouble(c -> c.getProbability()).sum();
                assertEquals(1.0, sum, 1e-5);
            }
        }
    }

    @Test
    void classifiesWithAVisionTransformerUnchanged() throws Exception {
        Engine.getInstance().setRandomSeed(6);
        try (Model model = Model.newInstance("vit-digits")) {
            FeedbackBlock block =
                    VisionTransformer.builder()
                            .setNumClasses(10)
                            .optInChannels(1)
                            .optImageSize(28)
                            .optPatchSize(VisionTransformer.SMALL_IMAGE_PATCH_SIZE)
                            .optNumLayers(1)
                            .optHiddenDim(32)
                            .optNumHeads(2)
                            .optMlpDim(64)
                            .optIterations(3)
                            .build();
            model.setBlock(block);
            block.initialize(model.getNDManager(), DataType.FLOAT32, new Shape(1, 1, 28, 28));
            BufferedImage img = seven(28);
            Classifications result;
            try (Predictor<Image, Classifications> predictor =
                    model.newPredictor(FeedbackTranslators.classification(DIGITS, 1, 28, 28))) {
                result = predictor.predict(ImageFactory.getInstance().fromImage(img));
            }
            try (NDManager m = NDManager.newBaseManager()) {
                NDArray probs =
                        block.forward(
                                        new ParameterStore(m, false),
                                        new NDList(tensor(m, img, 1)),
                                        false)
                                .head()
                                .softmax(1);
                double[] want = probs.toType(DataType.FLOAT64, false).toDoubleArray();
                double[] got = new double[10];
                for (int i = 0; i < 10; i++) {
                    got[i] = result.get(DIGITS.get(i)).getProbability();
                }
                assertArrayEquals(want, got, 1e-5);
                assertEquals(
                        DIGITS.get((int) probs.argMax(1).getLong(0)), result.best().getClassName());
            }
        }
    }

    @Test
    void segmentsADrawnDiscLikeTheBlockDoes() throws Exception {
        Engine.getInstance().setRandomSeed(4);
        List<String> classes = List.of("background", "disc", "other");
        try (Model model = Model.newInstance("discs")) {
            FeedbackBlock block =
                    DeepLabV3Plus.builder()
                            .setNumClasses(3)
                            .optClassFilters(16)
                            .optIterations(2)
                            .build();
            model.setBlock(block);
            block.initialize(model.getNDManager(), DataType.FLOAT32, new Shape(1, 3, 32, 32));
            BufferedImage img = new BufferedImage(32, 32, BufferedImage.TYPE_INT_RGB);
            Graphics2D g = img.createGraphics();
            g.setColor(new Color(40, 80, 200));
            g.fillRect(0, 0, 32, 32);
            g.setColor(Color.RED);
            g.fillOval(6, 8, 18, 18);
            g.dispose();
            CategoryMask mask;
            try (Predictor<Image, CategoryMask> predictor =
                    model.newPredictor(FeedbackTranslators.segmentation(classes, 3, 32, 32))) {
                mask = predictor.predict(ImageFactory.getInstance().fromImage(img));
            }
            assertEquals(classes, mask.getClasses());
            int[][] got = mask.getMask();
            assertEquals(32, got.length);
            assertEquals(32, got[0].length);
            try (NDManager m = NDManager.newBaseManager()) {
                NDArray best =
                        block.forward(
                                        new ParameterStore(m, false),
                                        new NDList(tensor(m, img, 3)),
                                        false)
                                .head()
                                .get(0)
                                .argMax(0)
                                .toType(DataType.INT32, false);
                int[] want = best.toIntArray();
                for (int y = 0; y < 32; y++) {
                    for (int x = 0; x < 32; x++) {
                        assertEquals(want[y * 32 + x], got[y][x], "pixel " + y + "," + x);
                    }
                }
            }
        }
    }

    @Test
    void rejectsImpossibleChannelCounts() {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> FeedbackTranslators.classification(DIGITS, 2, 28, 28));
        assertEquals(
                "images have 1 (grayscale) or 3 (RGB) channels, got inChannels=2", e.getMessage());
    }
}
