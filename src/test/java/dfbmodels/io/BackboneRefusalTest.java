package dfbmodels.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.core.Linear;
import dfbmodels.FeedbackBlock;
import dfbmodels.models.ResNet18;
import dfbmodels.models.ResNet34;
import dfbmodels.models.ResNetStem;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@link TorchWeights#loadBackbone} refuses a file that is not a backbone of the model (another
 * architecture, depth or width, stem, input channels, patch grid), before any parameter changes,
 * naming what the model takes, what the file holds and how to build a model for it, and listing
 * every missing key, key of another architecture and shape mismatch.
 */
class BackboneRefusalTest {

    private static final String RESNET18 =
            "torchvision resnet18 (BasicBlock [2, 2, 2, 2], 3 input channels)";
    private static final String VIT =
            "torchvision VisionTransformer (patch 4, hidden 64, 2 layers, 8x8 patch grid)";
    private static final String VIT_BUILDER =
            "VisionTransformer.builder().optImageSize(32).optPatchSize(4).optHiddenDim(64)"
                    + ".optNumLayers(2).optMlpDim(128) and optNumHeads as it was trained with";

    /** Loads, expects a refusal, checks that no parameter changed, returns the message. */
    private static String refused(Block model, Path file) {
        Map<String, float[]> before = Backbones.snapshot(model);
        MalformedModelException e =
                assertThrows(
                        MalformedModelException.class,
                        () -> TorchWeights.loadBackbone(model, file));
        Map<String, float[]> after = Backbones.snapshot(model);
        assertEquals(before.keySet(), after.keySet());
        before.forEach((k, v) -> assertArrayEquals(v, after.get(k), k + " changed"));
        return e.getMessage();
    }

    private static String head(Path file, String takes) {
        return "weights in "
                + file
                + " are not a backbone of this model, which takes a "
                + takes
                + "; nothing was loaded.\n  the file holds a ";
    }

    @Test
    void anotherArchitecture() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            Path r50 = Backbones.file(Backbones.RESNET50);
            String msg = refused(Backbones.resnet18(m), r50);
            assertTrue(
                    msg.startsWith(
                            head(r50, RESNET18)
                                    + "torchvision resnet50 (Bottleneck [3, 4, 6, 3], 3 input"
                                    + " channels): a feedback model takes it built with"
                                    + " ResNet50.builder()\n"
                                    + "  keys that architecture does not have (165):\n"
                                    + "    layer1.0.conv3.weight\n"),
                    msg);
            assertTrue(
                    msg.contains(
                            "\n  shape mismatches (24):\n"
                                    + "    layer1.0.conv1.weight: expected (64, 64, 3, 3), found"
                                    + " (64, 64, 1, 1)\n"),
                    msg);
            assertTrue(
                    msg.endsWith("\n    fc.weight: expected (10, 512), found (1000, 2048)"), msg);

            Path vit = Backbones.file(Backbones.VIT);
            msg = refused(Backbones.resnet18(m), vit);
            assertTrue(
                    msg.startsWith(
                            head(vit, RESNET18)
                                    + VIT
                                    + ": a feedback model takes it built with "
                                    + VIT_BUILDER
                                    + "\n  missing keys (100):\n    conv1.weight\n"),
                    msg);

            Path r18 = Backbones.file(Backbones.RESNET18);
            msg = refused(Backbones.vit(m), r18);
            assertTrue(
                    msg.startsWith(
                            head(r18, VIT)
                                    + RESNET18
                                    + ": a feedback model takes it built with ResNet18.builder()"
                                    + "\n  missing keys (29):\n    conv_proj.weight\n"),
                    msg);
        }
    }

    @Test
    void anotherDepth() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            Path r18 = Backbones.file(Backbones.RESNET18);
            FeedbackBlock r34 = Backbones.init(m, ResNet34.builder().setNumClasses(10).build(), 64);
            String msg = refused(r34, r18);
            assertTrue(
                    msg.startsWith(
                            head(
                                            r18,
                                            "torchvision resnet34 (BasicBlock [3, 4, 6, 3], 3 input"
                                                    + " channels)")
                                    + RESNET18
                                    + ": a feedback model takes it built with ResNet18.builder()"
                                    + "\n  missing keys (80):\n    layer1.2.conv1.weight\n"),
                    msg);

            Path vit = Backbones.file(Backbones.VIT);
            FeedbackBlock deeper =
                    Backbones.init(m, Backbones.vitBuilder().optNumLayers(3).build(), 32);
            msg = refused(deeper, vit);
            assertTrue(msg.contains("\n  missing keys (12):\n    encoder.layers.encoder_layer_2"));
        }
    }

    @Test
    void anotherWidthGridStemOrInput() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            Path vit = Backbones.file(Backbones.VIT);
            FeedbackBlock narrow =
                    Backbones.init(
                            m, Backbones.vitBuilder().optHiddenDim(32).optMlpDim(64).build(), 32);
            String msg = refused(narrow, vit);
            assertTrue(
                    msg.contains(
                            "\n  the file's patches are 4x4 into 64 channels, the model's 4x4 into"
                                    + " 32: build the model with optPatchSize and optHiddenDim to"
                                    + " match\n  shape mismatches (29):\n"
                                    + "    conv_proj.weight: expected (32, 3, 4, 4), found (64, 3,"
                                    + " 4, 4)\n"),
                    msg);

            FeedbackBlock bigger =
                    Backbones.init(m, Backbones.vitBuilder().optImageSize(64).build(), 64);
            msg = refused(bigger, vit);
            assertTrue(
                    msg.endsWith(
                            "\n  the file's position embedding is for a 8x8 patch grid and the"
                                    + " model's for 16x16: build the model with optImageSize(32)\n"
                                    + "  shape mismatches (1):\n"
                                    + "    encoder.pos_embedding: expected (1, 257, 64), found (1,"
                                    + " 65, 64)"),
                    msg);

            Path r18 = Backbones.file(Backbones.RESNET18);
            FeedbackBlock cifar =
                    Backbones.init(
                            m,
                            ResNet18.builder().setNumClasses(10).optStem(ResNetStem.CIFAR).build(),
                            32);
            msg = refused(cifar, r18);
            assertTrue(
                    msg.endsWith(
                            "\n  the model's conv1 is 3x3 (ResNetStem.CIFAR) and the file's 7x7:"
                                    + " ImageNet backbones need torchvision's stem; build the model"
                                    + " with the default ResNetStem.IMAGENET\n"
                                    + "  shape mismatches (1):\n"
                                    + "    conv1.weight: the model's conv1.weight (64, 3, 3, 3)"
                                    + " cannot take (64, 3, 7, 7)"),
                    msg);

            FeedbackBlock gray = ResNet18.builder().setNumClasses(10).optInChannels(1).build();
            gray.initialize(m, DataType.FLOAT32, new Shape(1, 1, 64, 64));
            msg = refused(gray, r18);
            assertTrue(
                    msg.endsWith(
                            "\n  the file's conv1 takes 3 input channels and the model 1: build"
                                    + " the model with optInChannels(3)\n"
                                    + "  shape mismatches (1):\n"
                                    + "    conv1.weight: expected (64, 1, 7, 7), found (64, 3, 7,"
                                    + " 7)"),
                    msg);
        }
    }

    @Test
    void aFeedbackModelsOwnStateDictLoadsWithLoadNotLoadBackbone() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            Path own = Backbones.dir().resolve("own-resnet18.safetensors");
            TorchWeights.save(Backbones.resnet18(m), own);
            String msg = refused(Backbones.resnet18(m), own);
            assertTrue(
                    msg.contains(
                            "\n  the file has the feedback model's own shape for"
                                    + " layer1.0.conv1.weight: a feedback model's state_dict loads"
                                    + " with TorchWeights.load\n"),
                    msg);
            assertTrue(msg.contains("\n  keys that architecture does not have (5):\n"), msg);
            TorchWeights.load(Backbones.resnet18(m), own); // which it does
        }
    }

    @Test
    void aModelWithoutATorchvisionBackboneOrNotInitialised() throws Exception {
        Path r18 = Backbones.file(Backbones.RESNET18);
        try (NDManager m = NDManager.newBaseManager()) {
            Linear linear = Linear.builder().setUnits(3).build();
            linear.initialize(m, DataType.FLOAT32, new Shape(1, 4));
            IllegalArgumentException e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> TorchWeights.loadBackbone(linear, r18));
            assertEquals(
                    "loadBackbone takes torchvision backbones into models with a torchvision"
                            + " ResNet (ResNet18/34/50, FeedbackResNet, DeepLabV3Plus's encoder) or"
                            + " Vision Transformer (VisionTransformer); this model (Linear,"
                            + " parameters (weight, bias)) is neither; load a state_dict of the"
                            + " model itself with TorchWeights.load",
                    e.getMessage());

            FeedbackBlock fresh = ResNet18.builder().setNumClasses(10).build();
            IllegalStateException s =
                    assertThrows(
                            IllegalStateException.class,
                            () -> TorchWeights.loadBackbone(fresh, r18));
            assertTrue(s.getMessage().startsWith("initialise the block before loading"));
        }
    }
}
