package dfbmodels;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import dfbmodels.io.TorchNames;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * The weights of a seeded parity fixture: every parameter is a function of a seed and its PyTorch
 * name, computed identically by {@code tools/make_fixtures.py} ({@code seeded_weight}), so a
 * fixture needs to store only its input and expected outputs (docs/parity.md).
 *
 * <p>For a parameter named {@code name} with {@code n} elements, element {@code i} (row-major) is
 * {@code a + b * v_i} in float32, with {@code v_i} in [-1, 1) from splitmix64 of the counter {@code
 * ((seed << 32) ^ crc32(name)) + (i + 1) * 0x9E3779B97F4A7C15}, its top 24 bits as {@code (m -
 * 2^23) / 2^23}; {@code a} and {@code b} depend on the name (see {@link #values}).
 */
public final class SeededWeights {

    private SeededWeights() {}

    /**
     * Sets every parameter of an initialised model to its seeded value, cast to the model's type.
     *
     * @param model the model, initialised
     * @param meta the fixture's metadata: {@code weight_seed}, {@code S} ({@code ones} or {@code
     *     seeded}), {@code tau}, {@code alpha}
     */
    public static void apply(Block model, Map<String, String> meta) {
        for (Map.Entry<String, Parameter> e : TorchNames.of(model).entrySet()) {
            NDArray p = e.getValue().getArray();
            float[] v = values(e.getKey(), p.getShape(), meta);
            try (NDManager scope = p.getManager().newSubManager()) {
                NDArray value = scope.create(v, p.getShape()).toType(p.getDataType(), false);
                p.set(value.toByteBuffer());
            }
        }
    }

    /**
     * Returns the seeded values of one parameter.
     *
     * @param name the PyTorch name
     * @param shape the shape
     * @param meta the fixture's metadata
     * @return the values, row-major
     */
    public static float[] values(String name, Shape shape, Map<String, String> meta) {
        String last = name.substring(name.lastIndexOf('.') + 1);
        float a;
        float b;
        if (name.startsWith("layernorm_")) { // the loop's GroupNorms are frozen at 1 and 0
            a = last.equals("weight") ? 1f : 0f;
            b = 0f;
        } else if (name.equals("error_head.tau")) {
            a = Float.parseFloat(meta.get("tau"));
            b = 0f;
        } else if (name.equals("error_head.alpha")) {
            a = Float.parseFloat(meta.get("alpha"));
            b = 0f;
        } else if (name.equals("error_head.S")) {
            a = 1f;
            b = "seeded".equals(meta.get("S")) ? 0.5f : 0f;
        } else if (name.equals("error_head.Q")) {
            a = 0f;
            b = (float) Math.sqrt(3.0 / shape.get(0));
        } else if (last.equals("class_token") || last.equals("pos_embedding")) { // torchvision ViT
            a = 0f;
            b = 0.05f;
        } else if (last.equals("in_proj_bias")) { // MultiheadAttention's packed [q; k; v] bias
            a = 0f;
            b = 0.1f;
        } else if (last.equals("in_proj_weight")) { // and its packed weight: He-uniform
            a = 0f;
            b = (float) Math.sqrt(6.0 / (shape.size() / shape.get(0)));
        } else if (last.equals("running_mean")) {
            a = 0f;
            b = 0.1f;
        } else if (last.equals("running_var")) {
            a = 1f;
            b = 0.5f;
        } else if (last.equals("bias")) {
            a = 0f;
            b = 0.1f;
        } else if (last.equals("weight") && shape.dimension() == 1) { // BatchNorm
            a = 1f;
            b = 0.2f;
        } else if (last.equals("weight")) { // convolution or linear: He-uniform
            a = 0f;
            b = (float) Math.sqrt(6.0 / (shape.size() / shape.get(0)));
        } else {
            throw new IllegalArgumentException("no seeded-weight rule for " + name);
        }
        float[] v = uniform(Long.parseLong(meta.get("weight_seed")), name, (int) shape.size());
        for (int i = 0; i < v.length; i++) {
            v[i] = a + b * v[i];
        }
        return v;
    }

    /**
     * Returns {@code n} values in [-1, 1), exact in float32, keyed by a seed and a name.
     *
     * @param seed the seed
     * @param name the name, hashed with CRC-32 of its UTF-8 bytes
     * @param n the number of values
     * @return the values
     */
    public static float[] uniform(long seed, String name, int n) {
        CRC32 crc = new CRC32();
        crc.update(name.getBytes(StandardCharsets.UTF_8));
        long base = (seed << 32) ^ crc.getValue();
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            long x = base + (i + 1L) * 0x9E3779B97F4A7C15L;
            x = (x ^ (x >>> 30)) * 0xBF58476D1CE4E5B9L;
            x = (x ^ (x >>> 27)) * 0x94D049BB133111EBL;
            x ^= x >>> 31;
            out[i] = (float) ((x >>> 40) - (1 << 23)) / (1 << 23);
        }
        return out;
    }
}
