package dfbmodels;

import ai.djl.ndarray.types.Shape;
import ai.djl.util.JsonUtils;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Real torchvision {@code state_dict}s for the backbone tests, rebuilt from the manifests that
 * {@code tools/make_backbone_fixtures.py} commits ({@code
 * src/test/resources/fixtures/torchvision_<model>.manifest.json}): every key, dtype and shape as
 * torchvision 0.14 makes them, in {@code state_dict} order, and the seed of the values ({@link
 * SeededWeights}; integer entries, {@code num_batches_tracked}, are torchvision's zeros). {@link
 * #safetensors} writes the file as the script does and checks its SHA-256 against the manifest's,
 * so a test loads byte for byte the file torchvision's state_dict was written to. The ResNet files
 * are 47 and 102 MB, which is why they are rebuilt rather than committed.
 */
public final class TorchvisionStateDicts {

    /** One tensor of a {@code state_dict}: key, safetensors dtype ({@code F32}, {@code I64}). */
    public record Tensor(String key, String dtype, Shape shape) {}

    /**
     * A manifest.
     *
     * @param model the name ({@code resnet18}, {@code resnet50}, {@code vit_32_p4_l2_d64})
     * @param weightSeed the seed of the values
     * @param bytes the size of the safetensors file
     * @param sha256 its SHA-256, hex
     * @param tensors the tensors, in {@code state_dict} order
     */
    public record Manifest(
            String model, long weightSeed, long bytes, String sha256, List<Tensor> tensors) {

        /**
         * Returns the seeded values of a floating tensor, as torchvision's state_dict holds them.
         *
         * @param key the tensor's key
         * @param shape its shape
         * @return the values, row-major
         */
        public float[] values(String key, Shape shape) {
            return SeededWeights.values(
                    key, shape, Map.of("weight_seed", Long.toString(weightSeed)));
        }
    }

    private TorchvisionStateDicts() {}

    /**
     * Reads a committed manifest.
     *
     * @param model the name, e.g. {@code resnet18}
     * @return the manifest
     * @throws IOException if it cannot be read
     */
    public static Manifest manifest(String model) throws IOException {
        Path file = Fixtures.repositoryDir().resolve("torchvision_" + model + ".manifest.json");
        JsonObject json = JsonUtils.GSON.fromJson(Files.readString(file), JsonObject.class);
        List<Tensor> tensors = new ArrayList<>();
        for (JsonElement e : json.getAsJsonArray("tensors")) {
            JsonArray t = e.getAsJsonArray();
            JsonArray dims = t.get(2).getAsJsonArray();
            long[] shape = new long[dims.size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = dims.get(i).getAsLong();
            }
            tensors.add(
                    new Tensor(t.get(0).getAsString(), t.get(1).getAsString(), new Shape(shape)));
        }
        return new Manifest(
                json.get("model").getAsString(),
                json.get("weight_seed").getAsLong(),
                json.get("bytes").getAsLong(),
                json.get("sha256").getAsString(),
                tensors);
    }

    /**
     * Writes a torchvision {@code state_dict} as {@code make_backbone_fixtures.py} writes it
     * (safetensors, metadata {@code {"format": "pt"}} as {@code safetensors.torch.save_file}), and
     * checks it byte for byte through the manifest's size and SHA-256.
     *
     * @param model the name, e.g. {@code resnet18}
     * @param dir the folder to write {@code <model>.safetensors} into
     * @return the file
     * @throws IOException if it cannot be written
     * @throws AssertionError if the file differs from the one the script wrote
     */
    public static Path safetensors(String model, Path dir) throws IOException {
        Manifest m = manifest(model);
        StringBuilder header = new StringBuilder("{");
        long offset = 0;
        for (Tensor t : m.tensors()) {
            long size = t.shape().size() * (t.dtype().equals("F32") ? 4 : 8);
            header.append('"')
                    .append(t.key())
                    .append("\":{\"dtype\":\"")
                    .append(t.dtype())
                    .append("\",\"shape\":[");
            for (int i = 0; i < t.shape().dimension(); i++) {
                header.append(i == 0 ? "" : ",").append(t.shape().get(i));
            }
            header.append("],\"data_offsets\":[")
                    .append(offset)
                    .append(',')
                    .append(offset + size)
                    .append("]},");
            offset += size;
        }
        header.append("\"__metadata__\":{\"format\":\"pt\"}}");
        while (header.length() % 8 != 0) {
            header.append(' ');
        }
        byte[] h = header.toString().getBytes(StandardCharsets.UTF_8);
        Path file = dir.resolve(model + ".safetensors");
        MessageDigest sha = sha256();
        try (OutputStream os =
                new DigestOutputStream(
                        new java.io.BufferedOutputStream(Files.newOutputStream(file), 1 << 20),
                        sha)) {
            os.write(
                    ByteBuffer.allocate(8)
                            .order(ByteOrder.LITTLE_ENDIAN)
                            .putLong(h.length)
                            .array());
            os.write(h);
            for (Tensor t : m.tensors()) {
                os.write(bytes(m, t));
            }
        }
        long size = Files.size(file);
        String digest = HexFormat.of().formatHex(sha.digest());
        if (size != m.bytes() || !digest.equals(m.sha256())) {
            throw new AssertionError(
                    "rebuilt "
                            + file
                            + " ("
                            + size
                            + " bytes, sha256 "
                            + digest
                            + ") is not the file tools/make_backbone_fixtures.py wrote ("
                            + m.bytes()
                            + " bytes, sha256 "
                            + m.sha256()
                            + ")");
        }
        return file;
    }

    /** A tensor's little-endian bytes: the seeded floats, or torchvision's integer zeros. */
    private static byte[] bytes(Manifest m, Tensor t) {
        int n = (int) t.shape().size();
        if (t.dtype().equals("I64")) {
            return new byte[8 * n];
        }
        if (!t.dtype().equals("F32")) {
            throw new IllegalArgumentException(t.key() + ": dtype " + t.dtype());
        }
        ByteBuffer bb = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : m.values(t.key(), t.shape())) {
            bb.putFloat(v);
        }
        return bb.array();
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
