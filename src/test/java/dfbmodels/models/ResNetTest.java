package dfbmodels.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dfbmodels.FeedbackBlock;
import dfbmodels.io.TorchNames;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ResNetTest {

    private static NDList run(FeedbackBlock model, NDManager m, Shape input, int iterations) {
        model.initialize(m, DataType.FLOAT32, input);
        PairList<String, Object> params = new PairList<>();
        params.add(FeedbackBlock.ITERATIONS, iterations);
        params.add(FeedbackBlock.RETURN_STATES, true);
        return model.forward(
                new ParameterStore(m, false), new NDList(m.randomNormal(input)), false, params);
    }

    @Test
    void mnistSized28x28SingleChannelInputsWork() {
        try (NDManager m = NDManager.newBaseManager()) {
            FeedbackBlock model =
                    ResNet18.builder().setNumClasses(10).optInChannels(1).optFbFilters(8).build();
            Shape in = new Shape(2, 1, 28, 28);
            NDList out = run(model, m, in, 3);
            assertEquals(new Shape(2, 10), out.head().getShape());
            // 28 -> 14 -> 7 -> 7 -> 4 -> 2 -> 1: the state is 1x1, not the original's 0x0
            assertEquals(new Shape(2, 520, 1, 1), out.get(1).getShape());
            assertEquals(new Shape(2, 10), model.getOutputShapes(new Shape[] {in})[0]);
            assertTrue(Double.isFinite(out.head().sum().getFloat()));
        }
    }

    @Test
    void cifarStemKeepsFullResolutionUntilLayer2AndTorchvisionsNames() {
        try (NDManager m = NDManager.newBaseManager()) {
            FeedbackBlock small =
                    ResNet18.builder()
                            .setNumClasses(10)
                            .optInChannels(1)
                            .optStem(ResNetStem.CIFAR)
                            .build();
            Shape in = new Shape(2, 1, 28, 28);
            assertEquals(
                    new Shape(2, 64, 28, 28),
                    small.getFrontend().getOutputShapes(new Shape[] {in})[0]);
            NDList out = run(small, m, in, 2);
            // 28 -> 28 (conv1 3x3/1, no max-pool) -> 28 (layer1) -> 14 -> 7 -> 4
            assertEquals(new Shape(2, 520, 4, 4), out.get(1).getShape());
            assertEquals(new Shape(2, 10), out.head().getShape());
            // 32 -> 32 -> 16 -> 8 -> 4
            FeedbackBlock rgb =
                    ResNet18.builder().setNumClasses(10).optStem(ResNetStem.CIFAR).build();
            assertEquals(
                    new Shape(1, 520, 4, 4),
                    run(rgb, m, new Shape(1, 3, 32, 32), 1).get(1).getShape());
            Map<String, Parameter> p = TorchNames.of(small);
            assertEquals(new Shape(64, 1, 3, 3), p.get("conv1.weight").getShape());
            FeedbackBlock imagenet = ResNet18.builder().setNumClasses(10).optInChannels(1).build();
            imagenet.initialize(m, DataType.FLOAT32, in);
            Map<String, Parameter> q = TorchNames.of(imagenet);
            assertEquals(q.keySet(), p.keySet(), "the same state_dict keys with both stems");
            assertEquals(new Shape(64, 1, 7, 7), q.get("conv1.weight").getShape());
        }
        assertEquals(
                "stem must be IMAGENET or CIFAR, got null",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> ResNet18.builder().setNumClasses(2).optStem(null).build())
                        .getMessage());
    }

    static Stream<Arguments> twins() {
        return Stream.of(
                Arguments.of(ResNetStem.IMAGENET, new Shape(2, 3, 64, 64)),
                Arguments.of(ResNetStem.CIFAR, new Shape(2, 1, 28, 28)));
    }

    @ParameterizedTest
    @MethodSource("twins")
    void feedforwardTwinHasTheSameParametersAndRunsOneStep(ResNetStem stem, Shape in) {
        try (NDManager m = NDManager.newBaseManager()) {
            int channels = (int) in.get(1);
            FeedbackBlock loop =
                    ResNet18.builder()
                            .setNumClasses(4)
                            .optInChannels(channels)
                            .optStem(stem)
                            .optIterations(5)
                            .build();
            FeedbackBlock twin =
                    ResNet18.builder()
                            .setNumClasses(4)
                            .optInChannels(channels)
                            .optStem(stem)
                            .optIterations(5)
                            .optFeedback(false)
                            .build();
            loop.initialize(m, DataType.FLOAT32, in);
            twin.initialize(m, DataType.FLOAT32, in);
            assertTrue(loop.isFeedback());
            assertTrue(!twin.isFeedback());
            // every parameter, the class path (conv1 .. layer4, fc) included, under the same
            // torchvision name with the same shape
            Map<String, Parameter> a = TorchNames.of(loop);
            Map<String, Parameter> b = TorchNames.of(twin);
            assertEquals(a.keySet(), b.keySet(), "parameter names");
            assertTrue(a.containsKey("conv1.weight") && a.containsKey("layer4.1.bn2.weight"));
            assertTrue(a.containsKey("fc.weight"));
            for (Map.Entry<String, Parameter> p : a.entrySet()) {
                NDArray value = p.getValue().getArray();
                NDArray target = b.get(p.getKey()).getArray();
                assertEquals(value.getShape(), target.getShape(), p.getKey());
                target.set(value.toByteBuffer());
            }
            NDArray x = m.randomNormal(in);
            PairList<String, Object> t1 = new PairList<>();
            t1.add(FeedbackBlock.ITERATIONS, 1);
            t1.add(FeedbackBlock.RETURN_STATES, true);
            PairList<String, Object> t5 = new PairList<>();
            t5.add(FeedbackBlock.ITERATIONS, 5);
            t5.add(FeedbackBlock.RETURN_STATES, true);
            ParameterStore ps = new ParameterStore(m, false);
            NDList once = loop.forward(ps, new NDList(x), false, t1);
            NDList twinOut = twin.forward(ps, new NDList(x), false, t5);
            NDList loopOut = loop.forward(ps, new NDList(x), false, t5);
            assertEquals(2, twinOut.size(), "the twin runs one step even when asked for 5");
            assertEquals(6, loopOut.size());
            assertEquals(0f, twinOut.head().sub(once.head()).abs().max().getFloat());
            assertTrue(loopOut.head().sub(once.head()).abs().max().getFloat() > 1e-4f);
        }
    }

    @Test
    void nonSquareInputsUseLayer4sActualSize() {
        try (NDManager m = NDManager.newBaseManager()) {
            FeedbackBlock model = ResNet18.builder().setNumClasses(5).optFbFilters(16).build();
            NDList out = run(model, m, new Shape(1, 3, 40, 72), 2);
            // 40 -> 20 -> 10 -> 10 -> 5 -> 3 -> 2 and 72 -> 36 -> 18 -> 18 -> 9 -> 5 -> 3
            assertEquals(new Shape(1, 528, 2, 3), out.get(2).getShape());
            assertEquals(new Shape(1, 5), out.head().getShape());
        }
    }

    @Test
    void resnet50UsesExpansionFourInEveryFeedbackWidth() {
        try (NDManager m = NDManager.newBaseManager()) {
            FeedbackBlock model = ResNet50.builder().setNumClasses(7).optFbFilters(2).build();
            assertEquals(2048, model.getClassChannels());
            assertEquals(8, model.getFeedbackChannels());
            NDList out = run(model, m, new Shape(1, 3, 32, 32), 1);
            assertEquals(new Shape(1, 2056, 1, 1), out.get(1).getShape());
            Map<String, Parameter> p = TorchNames.of(model);
            assertEquals(new Shape(64, 72, 1, 1), p.get("layer1.0.conv1.weight").getShape());
            assertEquals(
                    new Shape(256, 72, 1, 1), p.get("layer1.0.downsample.0.weight").getShape());
            assertEquals(new Shape(514, 1024, 1, 1), p.get("layer4.0.conv1.weight").getShape());
            assertEquals(new Shape(514, 514, 3, 3), p.get("layer4.0.conv2.weight").getShape());
            assertEquals(new Shape(2056, 514, 1, 1), p.get("layer4.2.conv3.weight").getShape());
            assertEquals(new Shape(2056, 2056), p.get("error_head.Q").getShape());
            assertEquals(new Shape(8), p.get("layernorm_input.weight").getShape());
            assertEquals(new Shape(7, 2048), p.get("fc.weight").getShape());
        }
    }

    @Test
    void widthScalesEveryStageAndKeepsTheNames() {
        try (NDManager m = NDManager.newBaseManager()) {
            Shape in = new Shape(2, 1, 28, 28);
            FeedbackBlock narrow =
                    ResNet18.builder()
                            .setNumClasses(10)
                            .optInChannels(1)
                            .optStem(ResNetStem.CIFAR)
                            .optWidth(16)
                            .optFbFilters(8)
                            .build();
            assertEquals(128, narrow.getClassChannels());
            assertEquals(8, narrow.getFeedbackChannels());
            NDList out = run(narrow, m, in, 2);
            // layer4 has 8w + fb = 136 planes, on the CIFAR stem's 4x4 state
            assertEquals(new Shape(2, 136, 4, 4), out.get(1).getShape());
            assertEquals(new Shape(2, 10), out.head().getShape());
            Map<String, Parameter> p = TorchNames.of(narrow);
            assertEquals(new Shape(16, 1, 3, 3), p.get("conv1.weight").getShape());
            // layer1 takes w + fb channels, so its first block has a downsample
            assertEquals(new Shape(16, 24, 3, 3), p.get("layer1.0.conv1.weight").getShape());
            assertEquals(new Shape(16, 24, 1, 1), p.get("layer1.0.downsample.0.weight").getShape());
            assertEquals(new Shape(32, 16, 3, 3), p.get("layer2.0.conv1.weight").getShape());
            assertEquals(new Shape(64, 64, 3, 3), p.get("layer3.1.conv2.weight").getShape());
            assertEquals(new Shape(136, 64, 3, 3), p.get("layer4.0.conv1.weight").getShape());
            assertEquals(new Shape(136, 136), p.get("error_head.Q").getShape());
            assertEquals(new Shape(10, 128), p.get("fc.weight").getShape());
            FeedbackBlock wide =
                    ResNet18.builder()
                            .setNumClasses(10)
                            .optInChannels(1)
                            .optStem(ResNetStem.CIFAR)
                            .optFbFilters(8)
                            .build();
            wide.initialize(m, DataType.FLOAT32, in);
            assertEquals(TorchNames.of(wide).keySet(), p.keySet(), "the same state_dict keys");
            // bottleneck: every width times 4, layer1 takes w + 4·fb
            FeedbackBlock fifty =
                    ResNet50.builder()
                            .setNumClasses(3)
                            .optWidth(16)
                            .optFbFilters(2)
                            .optStem(ResNetStem.CIFAR)
                            .build();
            assertEquals(512, fifty.getClassChannels());
            assertEquals(8, fifty.getFeedbackChannels());
            assertEquals(
                    new Shape(1, 520, 4, 4),
                    run(fifty, m, new Shape(1, 3, 32, 32), 1).get(1).getShape());
            Map<String, Parameter> q = TorchNames.of(fifty);
            assertEquals(new Shape(16, 24, 1, 1), q.get("layer1.0.conv1.weight").getShape());
            assertEquals(new Shape(64, 24, 1, 1), q.get("layer1.0.downsample.0.weight").getShape());
            assertEquals(new Shape(520, 130, 1, 1), q.get("layer4.2.conv3.weight").getShape());
        }
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> ResNet18.builder().setNumClasses(10).optWidth(0).build());
        assertEquals("ResNet18 width must be positive (64: torchvision's), got 0", e.getMessage());
        // the state GroupNorm sees 8w + fb channels: width 3 and fb 8 give 32, fine; fb 4 gives 28
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                ResNet18.builder()
                                        .setNumClasses(10)
                                        .optWidth(3)
                                        .optFbFilters(4)
                                        .optNormGroups(8)
                                        .build());
        assertTrue(
                e.getMessage().contains("the state GroupNorm needs (24 + fbFilters)*1"),
                e.getMessage());
    }

    @Test
    void parameterNamesAreTorchvisionsPlusTheFeedbackParts() {
        try (NDManager m = NDManager.newBaseManager()) {
            FeedbackBlock model = ResNet34.builder().setNumClasses(10).build();
            model.initialize(m, DataType.FLOAT32, new Shape(1, 3, 32, 32));
            Map<String, Parameter> p = TorchNames.of(model);
            // torchvision resnet34: 1 + 5 (conv1, bn1 x4) ... counted by layer
            int blocks = 3 + 4 + 6 + 3;
            int downsamples = 4; // layer1 too: its input has 64 + fb channels
            int expected = 5 + blocks * 10 + downsamples * 5 + 2 + 4 + 2 + 2;
            assertEquals(expected, p.size());
            assertTrue(p.containsKey("conv1.weight"));
            assertTrue(p.containsKey("bn1.running_var"));
            assertTrue(p.containsKey("layer3.5.bn2.running_mean"));
            assertTrue(p.containsKey("layer2.0.downsample.1.weight"));
            assertTrue(p.containsKey("error_head.alpha"));
            assertTrue(p.containsKey("layernorm_error.bias"));
            assertTrue(p.containsKey("fc.bias"));
        }
    }

    @Test
    void initialisationFollowsTorchvision() {
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(42);
            FeedbackBlock model = ResNet18.builder().setNumClasses(10).build();
            model.initialize(m, DataType.FLOAT32, new Shape(1, 3, 32, 32));
            Map<String, Parameter> p = TorchNames.of(model);
            // Kaiming normal, fan_out, gain sqrt(2): conv1 std = sqrt(2 / (64 * 7 * 7))
            assertStd(p.get("conv1.weight").getArray(), Math.sqrt(2.0 / (64 * 49)));
            assertStd(p.get("layer2.0.conv2.weight").getArray(), Math.sqrt(2.0 / (128 * 9)));
            // fc: Kaiming normal, fan_in
            assertStd(p.get("fc.weight").getArray(), Math.sqrt(2.0 / 512));
            assertEquals(0f, p.get("fc.bias").getArray().abs().sum().getFloat());
            assertEquals(64f, p.get("bn1.weight").getArray().sum().getFloat());
            assertEquals(64f, p.get("bn1.running_var").getArray().sum().getFloat());
            assertEquals(520f, p.get("error_head.S").getArray().sum().getFloat());
        }
    }

    private static void assertStd(NDArray w, double want) {
        double std = Math.sqrt(w.square().mean().getFloat());
        assertEquals(want, std, 0.05 * want, "std of " + w.getShape());
    }

    @Test
    void impossibleFeedbackWidthsFailAtBuildTimeWithValidValues() {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> ResNet18.builder().setNumClasses(10).optFbFilters(10).build());
        assertEquals(
                "ResNet18 (BASIC blocks, expansion 1) cannot use fbFilters=10 with normGroups=8:"
                        + " the feedback GroupNorm needs fbFilters*1 and the state GroupNorm needs"
                        + " (512 + fbFilters)*1 to be positive multiples of 8. Valid fbFilters: 8,"
                        + " 16, 24, 32, ...",
                e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> ResNet50.builder().setNumClasses(10).optFbFilters(3).build());
        assertTrue(e.getMessage().contains("Valid fbFilters: 2, 4, 6, 8"), e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> ResNet18.builder().setNumClasses(10).optFbFilters(0).build());
        assertTrue(e.getMessage().contains("fbFilters=0"), e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                ResNet18.builder()
                                        .setNumClasses(10)
                                        .optFbFilters(6)
                                        .optNormGroups(4)
                                        .build());
        assertTrue(e.getMessage().endsWith("Valid fbFilters: 4, 8, 12, 16, ..."), e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> ResNet18.builder().setNumClasses(10).optNormGroups(3).build());
        assertTrue(
                e.getMessage()
                        .endsWith(
                                "Valid fbFilters: none, since 512*1 is not a multiple of 3;"
                                        + " choose normGroups dividing it (e.g. 8)"),
                e.getMessage());
    }

    @Test
    void otherInvalidSettingsAreRejected() {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> ResNet34.builder().setNumClasses(10).optIterations(-1).build());
        assertEquals("iterations (T) must be >= 0, got -1", e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> ResNet18.builder().optFbFilters(8).build());
        assertEquals(
                "numClasses must be set to a positive number (setNumClasses), got -1",
                e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> ResNet18.builder().setNumClasses(2).optTau(0f).build());
        assertEquals("tau must be positive and finite, got 0.0", e.getMessage());
    }
}
