package dfbmodels.io;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Loads PyTorch {@code state_dict}s into dfbmodels blocks, and saves blocks in the same form.
 *
 * <p>Files are safetensors or numpy {@code .npz} (as written by {@code safetensors.torch.save_file}
 * or {@code np.savez(**{k: v.numpy()})}), decoded with DJL's {@link NDList#decode}. Keys follow
 * {@link TorchNames}. The original's duplicate aliases ({@code frontend.0.*} = {@code conv1.*},
 * {@code frontend.1.*} = {@code bn1.*}, {@code classification_head.2.*} = {@code fc.*}) are
 * accepted in place of, or beside, the primary keys; entries the computation does not use ({@code
 * T}, {@code layernorm_weight}, {@code error_head.T}, {@code error_head.Qinv}, {@code
 * *.num_batches_tracked}) are ignored.
 */
public final class TorchWeights {

    private static final Map<String, String> ALIASES =
            Map.of(
                    "frontend.0.", "conv1.",
                    "frontend.1.", "bn1.",
                    "classification_head.2.", "fc.");
    private static final Set<String> UNUSED =
            Set.of("T", "layernorm_weight", "error_head.T", "error_head.Qinv");

    private TorchWeights() {}

    /**
     * Loads a PyTorch {@code state_dict} strictly: every parameter must be in the file with the
     * right shape, and the file must hold nothing else (beyond the aliases and unused keys).
     *
     * @param block an initialised block
     * @param file a {@code .safetensors} or {@code .npz} file
     * @throws IOException if the file cannot be read
     * @throws MalformedModelException if the file is not a state_dict of this model; the message
     *     lists every missing key, unexpected key and shape mismatch
     */
    public static void load(Block block, Path file) throws IOException, MalformedModelException {
        load(block, file, true);
    }

    /**
     * Loads a PyTorch {@code state_dict}; values of any floating type are cast to the block's.
     *
     * @param block an initialised block
     * @param file a {@code .safetensors} or {@code .npz} file
     * @param strict whether missing and unexpected keys are errors (shape mismatches always are)
     * @throws IOException if the file cannot be read
     * @throws MalformedModelException if the file does not fit the model
     */
    public static void load(Block block, Path file, boolean strict)
            throws IOException, MalformedModelException {
        Map<String, Parameter> params = TorchNames.of(block);
        for (Map.Entry<String, Parameter> p : params.entrySet()) {
            if (!p.getValue().isInitialized()) {
                throw new IllegalStateException(
                        "initialise the block before loading weights into it"
                                + " (block.initialize(manager, dataType, inputShape)); parameter "
                                + p.getKey()
                                + " has no value yet");
            }
        }
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "no such weights file");
        }
        try (NDManager manager = NDManager.newBaseManager(Device.cpu())) {
            Map<String, NDArray> tensors = read(manager, file);
            List<String> missing = new ArrayList<>();
            List<String> mismatched = new ArrayList<>();
            Map<Parameter, NDArray> assignments = new LinkedHashMap<>();
            for (Map.Entry<String, Parameter> p : params.entrySet()) {
                String key = p.getKey();
                NDArray value = tensors.remove(key);
                for (Map.Entry<String, String> alias : ALIASES.entrySet()) {
                    if (key.startsWith(alias.getValue())) {
                        String aliasKey = alias.getKey() + key.substring(alias.getValue().length());
                        NDArray aliased = tensors.remove(aliasKey);
                        value = value == null ? aliased : value;
                    }
                }
                if (value == null) {
                    missing.add(key);
                    continue;
                }
                NDArray target = p.getValue().getArray();
                if (!value.getShape().equals(target.getShape())) {
                    mismatched.add(
                            key
                                    + ": expected "
                                    + target.getShape()
                                    + ", found "
                                    + value.getShape());
                    continue;
                }
                if (!value.getDataType().isFloating()) {
                    mismatched.add(
                            key + ": expected a floating type, found " + value.getDataType());
                    continue;
                }
                assignments.put(p.getValue(), value);
            }
            List<String> unexpected = new ArrayList<>();
            for (String key : tensors.keySet()) {
                if (!UNUSED.contains(key) && !key.endsWith(".num_batches_tracked")) {
                    unexpected.add(key);
                }
            }
            if (!mismatched.isEmpty()
                    || (strict && (!missing.isEmpty() || !unexpected.isEmpty()))) {
                StringBuilder sb =
                        new StringBuilder("weights in ")
                                .append(file)
                                .append(" do not fit the model:");
                appendList(sb, "missing keys", missing);
                appendList(sb, "unexpected keys", unexpected);
                appendList(sb, "shape mismatches", mismatched);
                throw new MalformedModelException(sb.toString());
            }
            for (Map.Entry<Parameter, NDArray> a : assignments.entrySet()) {
                NDArray target = a.getKey().getArray();
                target.set(a.getValue().toType(target.getDataType(), false).toByteBuffer());
            }
        }
    }

    /**
     * Saves a block's parameters as a safetensors {@code state_dict} under their PyTorch keys.
     *
     * @param block an initialised block
     * @param file the file to write
     * @throws IOException if the file cannot be written
     */
    public static void save(Block block, Path file) throws IOException {
        try (NDManager manager = NDManager.newBaseManager(Device.cpu())) {
            NDList list = new NDList();
            for (Map.Entry<String, Parameter> p : TorchNames.of(block).entrySet()) {
                NDArray copy = p.getValue().getArray().toDevice(Device.cpu(), true);
                copy.attach(manager);
                copy.setName(p.getKey());
                list.add(copy);
            }
            try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(file))) {
                list.encode(os, NDList.Encoding.SAFETENSORS);
            }
        }
    }

    private static Map<String, NDArray> read(NDManager manager, Path file)
            throws IOException, MalformedModelException {
        NDList list;
        try (InputStream is = new BufferedInputStream(Files.newInputStream(file))) {
            list = NDList.decode(manager, is);
        } catch (IllegalArgumentException
                | IllegalStateException
                | UnsupportedOperationException e) {
            throw new MalformedModelException(
                    file
                            + " is not a readable safetensors or .npz state_dict (truncated or"
                            + " another format?): "
                            + e.getMessage(),
                    e);
        }
        Map<String, NDArray> tensors = new LinkedHashMap<>();
        for (NDArray array : list) {
            if (array.getName() == null) {
                throw new MalformedModelException(
                        file + " holds an unnamed array; a state_dict needs a key per tensor");
            }
            tensors.put(array.getName(), array);
        }
        return tensors;
    }

    private static void appendList(StringBuilder sb, String what, List<String> items) {
        if (!items.isEmpty()) {
            sb.append("\n  ").append(what).append(" (").append(items.size()).append("):");
            for (String item : items) {
                sb.append("\n    ").append(item);
            }
        }
    }
}
