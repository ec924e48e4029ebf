package dfbmodels.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDManager;
import dfbmodels.FeedbackBlock;
import dfbmodels.TorchvisionStateDicts;
import dfbmodels.TorchvisionStateDicts.Manifest;
import dfbmodels.TorchvisionStateDicts.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@link TorchWeights#loadBackbone} reads what {@link TorchWeights#load} reads: the torchvision
 * state_dicts as {@code np.savez} writes them, in BF16 (as a bfloat16 checkpoint is saved), under
 * {@code DataParallel}'s {@code module.} prefix; and refuses an integer tensor where a weight
 * belongs.
 */
class BackboneFormatsTest {

    @Test
    void resnet18FromNpz() throws Exception {
        Manifest manifest = TorchvisionStateDicts.manifest(Backbones.RESNET18);
        Map<String, byte[]> npys = new LinkedHashMap<>();
        for (Tensor t : manifest.tensors()) {
            long[] shape = t.shape().getShape();
            if (t.dtype().equals("I64")) { // num_batches_tracked: a 0-d int64
                npys.put(t.key(), TestFiles.npy("<i8", false, shape, new byte[8]));
            } else {
                byte[] data = TestFiles.f32(manifest.values(t.key(), t.shape()));
                npys.put(t.key(), TestFiles.npy("<f4", false, shape, data));
            }
        }
        Path npz = Backbones.dir().resolve("resnet18.npz");
        TestFiles.write(npz, TestFiles.npz(npys, false));
        try (NDManager m = NDManager.newBaseManager()) {
            FeedbackBlock model = Backbones.resnet18(m);
            BackboneOptions defaults = BackboneOptions.defaults();
            LoadReport report =
                    BackboneLoadTest.checkResNet(model, Backbones.RESNET18, npz, defaults, false);
            assertEquals(npz, report.file());
        }
    }

    /** The ViT's state_dict in BF16, every key under {@code module.}. */
    private static Path bf16Vit(String intKey) throws Exception {
        Manifest manifest = TorchvisionStateDicts.manifest(Backbones.VIT);
        Map<String, TestFiles.Raw> tensors = new LinkedHashMap<>();
        for (Tensor t : manifest.tensors()) {
            float[] v = manifest.values(t.key(), t.shape());
            long[] shape = t.shape().getShape();
            if (t.key().equals(intKey)) {
                ByteBuffer bb = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
                for (float f : v) {
                    bb.putInt(Math.round(f * 100));
                }
                tensors.put("module." + t.key(), TestFiles.raw("I32", shape, bb.array()));
                continue;
            }
            int[] bits = new int[v.length];
            for (int i = 0; i < v.length; i++) {
                bits[i] = bf16(v[i]);
            }
            tensors.put("module." + t.key(), TestFiles.raw("BF16", shape, TestFiles.u16(bits)));
        }
        String name = intKey == null ? "vit-bf16.safetensors" : "vit-bf16-int.safetensors";
        return TestFiles.write(Backbones.dir().resolve(name), TestFiles.safetensors(tensors));
    }

    /** float32 to bfloat16 bits, rounded to nearest even (values here are finite). */
    private static int bf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        return ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16) & 0xFFFF;
    }

    private static float[] roundedToBf16(float[] v) {
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = Float.intBitsToFloat(bf16(v[i]) << 16);
        }
        return out;
    }

    @Test
    void visionTransformerFromBf16UnderModulePrefix() throws Exception {
        Path file = bf16Vit(null);
        Manifest manifest = TorchvisionStateDicts.manifest(Backbones.VIT);
        try (NDManager m = NDManager.newBaseManager()) {
            FeedbackBlock model = Backbones.vit(m);
            LoadReport report = TorchWeights.loadBackbone(model, file);
            Map<String, float[]> after = Backbones.snapshot(model);
            int checked = 0;
            for (Tensor t : manifest.tensors()) {
                float[] want = roundedToBf16(manifest.values(t.key(), t.shape()));
                if (t.key().startsWith("conv_proj.") || t.key().startsWith("encoder.l")) {
                    assertArrayEquals(want, after.get(t.key()), t.key());
                    checked++;
                } else if (t.key().equals("encoder.pos_embedding")) {
                    float[] rows = Arrays.copyOfRange(want, 64, want.length);
                    assertArrayEquals(rows, after.get("pos_embedding"));
                    checked++;
                }
            }
            assertEquals(29, checked);
            assertEquals(28, report.loaded().size());
            assertEquals(Map.of("module.", 32), report.strippedPrefixes());
            assertEquals("module.class_token", report.skipped().get(0).fileKey());
            assertTrue(report.summary().contains("; stripped 'module.' from 32 keys"));
        }
    }

    @Test
    void anIntegerWeightIsRefusedBeforeAnythingIsWritten() throws Exception {
        Path file = bf16Vit("conv_proj.bias");
        try (NDManager m = NDManager.newBaseManager()) {
            FeedbackBlock model = Backbones.vit(m);
            Map<String, float[]> before = Backbones.snapshot(model);
            MalformedModelException e =
                    assertThrows(
                            MalformedModelException.class,
                            () -> TorchWeights.loadBackbone(model, file));
            assertTrue(
                    e.getMessage()
                            .contains(
                                    "\n  unsupported types (1):\n    conv_proj.bias"
                                            + " (module.conv_proj.bias in the file): type I32"
                                            + " (integer) does not load into a float32"
                                            + " parameter"),
                    e.getMessage());
            Map<String, float[]> after = Backbones.snapshot(model);
            before.forEach((k, v) -> assertArrayEquals(v, after.get(k), k));
        }
    }
}
