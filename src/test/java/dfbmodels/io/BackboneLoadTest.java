package dfbmodels.io;

import static dfbmodels.io.Backbones.sliced;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import dfbmodels.FeedbackBlock;
import dfbmodels.TorchvisionStateDicts;
import dfbmodels.TorchvisionStateDicts.Manifest;
import dfbmodels.TorchvisionStateDicts.Tensor;
import dfbmodels.io.LoadReport.Outcome;
import dfbmodels.models.DeepLabV3Plus;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * {@link TorchWeights#loadBackbone} with real torchvision state_dicts (torchvision 0.14's resnet18,
 * resnet50 and a small VisionTransformer, seeded values; {@link dfbmodels.TorchvisionStateDicts}):
 * every tensor copied whole is bit for bit the file's, every slice is checked element for element
 * (the file's values in the leading corner, zeros from the feedback inputs, the model's own
 * initialisation elsewhere), and the report lists exactly what went where.
 */
class BackboneLoadTest {

    /** The model's parameters the loop adds, which no backbone has. */
    private static final Predicate<String> LOOP =
            k -> k.startsWith("error_head.") || k.startsWith("layernorm_");

    @Test
    void resnet18TakesTorchvisionsResnet18() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            FeedbackBlock model = Backbones.resnet18(m);
            Path file = Backbones.file(Backbones.RESNET18);
            checkResNet(model, Backbones.RESNET18, file, BackboneOptions.defaults(), false);
        }
    }

    @Test
    void resnet50TakesTorchvisionsResnet50() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            FeedbackBlock model = Backbones.resnet50(m);
            Path file = Backbones.file(Backbones.RESNET50);
            checkResNet(model, Backbones.RESNET50, file, BackboneOptions.defaults(), true);
        }
    }

    @Test
    void withoutZeroFeedbackInputsTheFeedbackWeightsKeepTheirInitialisation() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            FeedbackBlock model = Backbones.resnet18(m);
            BackboneOptions keep = BackboneOptions.builder().optZeroFeedbackInputs(false).build();
            checkResNet(model, Backbones.RESNET18, Backbones.file(Backbones.RESNET18), keep, false);
        }
    }

    /**
     * Loads a torchvision ResNet state_dict from {@code file} and checks every parameter and the
     * report.
     *
     * @return the report
     */
    static LoadReport checkResNet(
            FeedbackBlock model,
            String name,
            Path file,
            BackboneOptions options,
            boolean bottleneck)
            throws Exception {
        boolean zero = options.zeroFeedbackInputs();
        Map<String, float[]> before = Backbones.snapshot(model);
        LoadReport report = TorchWeights.loadBackbone(model, file, options);
        Map<String, float[]> after = Backbones.snapshot(model);
        Map<String, Parameter> params = TorchNames.of(model);
        Manifest manifest = TorchvisionStateDicts.manifest(name);

        // which tensors the feedback widens, by name: layer1's first block's inputs, layer4
        Predicate<String> widened =
                k ->
                        k.equals("layer1.0.conv1.weight")
                                || (bottleneck && k.equals("layer1.0.downsample.0.weight"))
                                || k.startsWith("layer4.")
                                || k.startsWith("fc.");
        List<String> wantLoaded = new ArrayList<>();
        List<String> wantSliced = new ArrayList<>();
        for (Tensor t : manifest.tensors()) {
            if (t.dtype().equals("I64")) {
                continue;
            }
            float[] src = manifest.values(t.key(), t.shape());
            Shape srcShape = t.shape();
            Shape shape = params.get(t.key()).getArray().getShape();
            if (t.key().startsWith("fc.")) { // 1000 ImageNet classes, the model has 10
                assertEquals(1000, srcShape.get(0));
                srcShape = new Shape(10).addAll(srcShape.slice(1));
                src = Arrays.copyOf(src, (int) srcShape.size());
            }
            if (widened.test(t.key())) {
                assertFalse(shape.equals(t.shape()), t.key() + " is widened: " + shape);
                float[] want = sliced(before.get(t.key()), shape, src, srcShape, zero);
                assertArrayEquals(want, after.get(t.key()), t.key());
                wantSliced.add(t.key());
            } else {
                assertEquals(t.shape(), shape, t.key());
                assertArrayEquals(src, after.get(t.key()), t.key()); // bit for bit
                wantLoaded.add(t.key());
            }
        }
        assertEquals(wantLoaded, report.loaded());
        assertEquals(wantSliced, report.sliced());
        assertEquals(bottleneck ? 213 : 74, wantLoaded.size());
        assertEquals(bottleneck ? 54 : 28, wantSliced.size());

        // every other entry of the file: torchvision's num_batches_tracked, unused
        for (LoadReport.Entry e : report.skipped()) {
            assertTrue(e.fileKey().endsWith(".num_batches_tracked"), e.toString());
            assertEquals(Outcome.UNUSED, e.outcome());
        }
        assertEquals(manifest.tensors().size(), report.entries().size());

        // torchvision's BasicBlock ResNets have no layer1.0.downsample: it starts as the identity
        List<String> initialised = new ArrayList<>(report.initialised().keySet());
        if (bottleneck) {
            assertTrue(initialised.isEmpty(), initialised.toString());
        } else {
            String ds = "layer1.0.downsample.";
            assertEquals(
                    List.of(
                            ds + "0.weight",
                            ds + "1.weight",
                            ds + "1.bias",
                            ds + "1.running_mean",
                            ds + "1.running_var"),
                    initialised);
            Shape conv = params.get(ds + "0.weight").getArray().getShape();
            assertEquals(new Shape(64, 72, 1, 1), conv);
            float[] eye = new float[64 * 64];
            for (int i = 0; i < 64; i++) {
                eye[i * 64 + i] = 1f;
            }
            float[] want =
                    sliced(before.get(ds + "0.weight"), conv, eye, new Shape(64, 64, 1, 1), zero);
            assertArrayEquals(want, after.get(ds + "0.weight"));
            assertArrayEquals(filled(64, 1f), after.get(ds + "1.weight"));
            assertArrayEquals(filled(64, 0f), after.get(ds + "1.bias"));
            assertArrayEquals(filled(64, 0f), after.get(ds + "1.running_mean"));
            assertArrayEquals(filled(64, 1f - 1e-5f), after.get(ds + "1.running_var"));
            assertEquals(1f, (1f - 1e-5f) + 1e-5f, "var + eps is 1 in float32");
        }

        // the loop's parameters are left as initialised
        List<String> untouched = new ArrayList<>();
        for (String k : params.keySet()) {
            if (LOOP.test(k)) {
                untouched.add(k);
                assertArrayEquals(before.get(k), after.get(k), k);
            }
        }
        assertEquals(untouched, report.untouched());
        assertTrue(report.frozen().isEmpty());
        assertEquals(
                params.size(),
                report.loaded().size()
                        + report.sliced().size()
                        + report.initialised().size()
                        + report.untouched().size());
        assertTrue(
                report.summary()
                        .startsWith(
                                "loaded torchvision "
                                        + name
                                        + " ("
                                        + (bottleneck ? "Bottleneck [3, 4, 6, 3]" : "BasicBlock")
                                        + (bottleneck ? "" : " [2, 2, 2, 2]")
                                        + ", 3 input channels) from "),
                report.summary());
        assertTrue(
                report.summary()
                        .contains(
                                report.loaded().size()
                                        + " of "
                                        + params.size()
                                        + " parameters copied whole, "
                                        + report.sliced().size()
                                        + " as slices, "),
                report.summary());
        return report;
    }

    @Test
    void visionTransformerTakesTorchvisionsVisionTransformer() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            FeedbackBlock model = Backbones.vit(m);
            Map<String, float[]> before = Backbones.snapshot(model);
            LoadReport report = TorchWeights.loadBackbone(model, Backbones.file(Backbones.VIT));
            Map<String, float[]> after = Backbones.snapshot(model);
            Manifest manifest = TorchvisionStateDicts.manifest(Backbones.VIT);

            List<String> wantLoaded = new ArrayList<>();
            for (Tensor t : manifest.tensors()) {
                float[] src = manifest.values(t.key(), t.shape());
                if (t.key().startsWith("conv_proj.") || t.key().startsWith("encoder.l")) {
                    assertArrayEquals(src, after.get(t.key()), t.key()); // bit for bit
                    wantLoaded.add(t.key());
                } else if (t.key().equals("encoder.pos_embedding")) {
                    // (1, 65, 64): row 0 is the class token's, the model has the 64 patch rows
                    assertEquals(new Shape(1, 65, 64), t.shape());
                    assertArrayEquals(
                            Arrays.copyOfRange(src, 64, src.length), after.get("pos_embedding"));
                }
            }
            assertEquals(wantLoaded, report.loaded());
            assertEquals(2 + 2 * 12 + 2, wantLoaded.size());
            assertEquals(List.of("pos_embedding"), report.sliced());
            LoadReport.Entry pos = entry(report, "encoder.pos_embedding");
            assertEquals(Outcome.SLICED, pos.outcome());
            assertEquals(
                    "rows [1, 65) of (1, 65, 64), the patch tokens' (row 0, the class token's,"
                            + " has no place)",
                    pos.detail());

            // no place in the model: the class token, and the head that reads it
            List<String> skipped = new ArrayList<>();
            for (LoadReport.Entry e : report.skipped()) {
                assertEquals(Outcome.SKIPPED, e.outcome(), e.toString());
                assertNull(e.parameterKey());
                skipped.add(e.fileKey());
            }
            assertEquals(List.of("class_token", "heads.head.weight", "heads.head.bias"), skipped);
            assertTrue(entry(report, "class_token").detail().startsWith("the class token"));

            // input_proj and state_proj start as the identity torchvision has there
            assertEquals(
                    List.of(
                            "input_proj.weight",
                            "input_proj.bias",
                            "state_proj.weight",
                            "state_proj.bias"),
                    new ArrayList<>(report.initialised().keySet()));
            float[] eye = new float[64 * 64];
            for (int i = 0; i < 64; i++) {
                eye[i * 64 + i] = 1f;
            }
            Shape d64 = new Shape(64, 64);
            assertArrayEquals(
                    sliced(before.get("input_proj.weight"), new Shape(64, 72), eye, d64, true),
                    after.get("input_proj.weight"));
            assertArrayEquals(filled(64, 0f), after.get("input_proj.bias"));
            assertArrayEquals(
                    sliced(before.get("state_proj.weight"), new Shape(72, 64), eye, d64, true),
                    after.get("state_proj.weight"));
            assertArrayEquals(
                    sliced(
                            before.get("state_proj.bias"),
                            new Shape(72),
                            filled(64, 0f),
                            new Shape(64),
                            true),
                    after.get("state_proj.bias"));

            List<String> untouched = new ArrayList<>();
            for (String k : before.keySet()) {
                if (LOOP.test(k) || k.startsWith("fc_norm.") || k.startsWith("head.")) {
                    untouched.add(k);
                    assertArrayEquals(before.get(k), after.get(k), k);
                }
            }
            assertEquals(untouched, report.untouched());
            assertEquals(
                    "torchvision VisionTransformer (patch 4, hidden 64, 2 layers, 8x8 patch grid)",
                    report.backbone());
        }
    }

    /**
     * DeepLabV3+'s encoder is torchvision's ResNet under {@code encoder.}; layer4 is not widened.
     */
    @Test
    void deepLabsEncoderTakesTorchvisionsResnet18() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            FeedbackBlock model =
                    Backbones.init(m, DeepLabV3Plus.builder().setNumClasses(3).build(), 64);
            Map<String, float[]> before = Backbones.snapshot(model);
            LoadReport report =
                    TorchWeights.loadBackbone(model, Backbones.file(Backbones.RESNET18));
            Map<String, float[]> after = Backbones.snapshot(model);
            Manifest manifest = TorchvisionStateDicts.manifest(Backbones.RESNET18);
            List<String> wantLoaded = new ArrayList<>();
            for (Tensor t : manifest.tensors()) {
                String key = "encoder." + t.key();
                if (t.dtype().equals("I64") || t.key().startsWith("fc.")) {
                    continue;
                }
                float[] src = manifest.values(t.key(), t.shape());
                if (t.key().equals("layer1.0.conv1.weight")) { // 64 + fb = 66 inputs
                    Shape shape = new Shape(64, 66, 3, 3);
                    assertArrayEquals(
                            sliced(before.get(key), shape, src, t.shape(), true), after.get(key));
                } else {
                    assertArrayEquals(src, after.get(key), key);
                    wantLoaded.add(key);
                }
            }
            assertEquals(wantLoaded, report.loaded());
            assertEquals(List.of("encoder.layer1.0.conv1.weight"), report.sliced());
            assertEquals(5, report.initialised().size()); // the identity layer1.0.downsample
            List<String> skipped = new ArrayList<>();
            for (LoadReport.Entry e : report.skipped()) {
                if (e.outcome() == Outcome.SKIPPED) {
                    skipped.add(e.fileKey() + ": " + e.detail());
                }
            }
            assertEquals(
                    List.of(
                            "fc.weight: a classification head: the model has none",
                            "fc.bias: a classification head: the model has none"),
                    skipped);
            for (String k : report.untouched()) {
                assertTrue(
                        k.startsWith("decoder.")
                                || k.startsWith("segmentation_head.")
                                || LOOP.test(k),
                        k);
                assertArrayEquals(before.get(k), after.get(k), k);
            }
        }
    }

    static LoadReport.Entry entry(LoadReport report, String fileKey) {
        for (LoadReport.Entry e : report.entries()) {
            if (e.fileKey().equals(fileKey)) {
                return e;
            }
        }
        throw new AssertionError("no entry for " + fileKey);
    }

    private static float[] filled(int n, float v) {
        float[] a = new float[n];
        Arrays.fill(a, v);
        return a;
    }
}
