package dfbmodels.io;

import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.initializer.Initializer;
import ai.djl.util.Pair;
import dfbmodels.io.ParameterStream.Divergence;
import dfbmodels.io.ParameterStream.Record;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Validates DJL's own parameter files ({@code Model.save}, {@code .params}) against a block before
 * {@code Model.load} writes any of them: a file of another configuration or architecture fails at
 * load time, naming what differs, and leaves the model as it was.
 *
 * <p>The part of the stream that belongs to the block is read first, in step with the block tree
 * (each block's version and metadata read by the block itself, its state restored afterwards; each
 * parameter's name, type and shape parsed, its data kept aside), then compared with the model, and
 * only then handed to DJL's own loading. Errors, as {@link MalformedModelException}s:
 *
 * <ul>
 *   <li><b>another configuration</b> (the same blocks, other sizes: a feedback ResNet18 saved with
 *       {@code fbFilters} 8, loaded into one with 16): every parameter whose shape differs, by its
 *       PyTorch key ({@link TorchNames}), with the expected and the found shape;
 *   <li><b>another architecture</b> (other blocks: ResNet18 parameters into a ResNet34): where the
 *       file and the model part ways and how, both parameter counts, and the first parameter that
 *       differs.
 * </ul>
 *
 * <p>A block that is not initialised (DJL's {@code Model.load} is often called on a fresh block) is
 * initialised, for the comparison, on the input shapes the file records for it, in the file's data
 * type; if loading fails it is left uninitialised, as it was.
 *
 * <p>{@link dfbmodels.FeedbackBlock}, the root of every dfbmodels model, loads through here;
 * another root block can do the same by overriding {@link Block#loadParameters} with {@code
 * DjlParameters.load(this, manager, is, super::loadParameters)}.
 */
public final class DjlParameters {

    private static final ThreadLocal<Boolean> WRITING = ThreadLocal.withInitial(() -> false);

    private DjlParameters() {}

    /** DJL's own loading of a block's parameters, as {@code super::loadParameters} of the root. */
    @FunctionalInterface
    public interface Loader {

        /**
         * Loads parameters from a stream in DJL's format.
         *
         * @param manager the manager of the loaded arrays
         * @param is the stream
         * @throws IOException if the stream cannot be read
         * @throws MalformedModelException if the data is malformed
         */
        void load(NDManager manager, DataInputStream is)
                throws IOException, MalformedModelException;
    }

    /**
     * Validates the block's part of a DJL parameter stream against the block, then loads it with
     * DJL's own code.
     *
     * @param block the block being loaded (the root of the tree to check)
     * @param manager the manager of the loaded arrays (the model's)
     * @param is the stream, at the block's first byte
     * @param djl DJL's loading of the block ({@code super::loadParameters})
     * @throws IOException if the stream cannot be read
     * @throws MalformedModelException if the file holds another configuration or architecture, or
     *     ends early; the message says what differs, and nothing was loaded
     */
    public static void load(Block block, NDManager manager, DataInputStream is, Loader djl)
            throws IOException, MalformedModelException {
        if (WRITING.get()) {
            // a nested validating block, inside a tree that was validated as a whole
            djl.load(manager, is);
            return;
        }
        List<Parameter> params = new ArrayList<>(block.getParameters().values());
        boolean initialized = block.isInitialized();
        // the file's size, when the stream knows it, sizes the buffer at once
        RecordingInputStream recorder =
                new RecordingInputStream(is, Math.min(is.available(), 1 << 30));
        FieldSnapshot before = initialized ? null : FieldSnapshot.of(stateOf(block));
        boolean loaded = false;
        try (NDManager scratch = manager.newSubManager()) {
            ParameterStream stream = new ParameterStream(new DataInputStream(recorder), scratch);
            Exception parted = null;
            try {
                stream.read(block, true);
            } catch (Divergence | EOFException e) {
                parted = e;
            }
            String uninitialized = initialized ? null : initialize(block, scratch, stream);
            if (parted != null) {
                recorder.drain();
                throw anotherArchitecture(block, params, stream, recorder, parted);
            }
            if (uninitialized != null) {
                throw new MalformedModelException(uninitialized);
            }
            checkShapes(block, params, stream.records());
            WRITING.set(true);
            try {
                djl.load(manager, new DataInputStream(recorder.replay()));
            } finally {
                WRITING.set(false);
            }
            loaded = true;
        } finally {
            if (!loaded && before != null) {
                before.restore();
            }
        }
    }

    private static List<Object> stateOf(Block block) {
        List<Object> state = new ArrayList<>();
        collect(block, state);
        state.addAll(block.getParameters().values());
        return state;
    }

    private static void collect(Block block, List<Object> out) {
        out.add(block);
        for (Pair<String, Block> child : block.getChildren()) {
            collect(child.getValue(), out);
        }
    }

    /** Initialises a fresh block on the file's input shapes; returns why not, or null. */
    private static String initialize(Block block, NDManager scratch, ParameterStream stream) {
        Shape[] shapes = stream.rootInputShapes();
        if (shapes == null || shapes.length == 0) {
            return "the parameter file records no input shape for the model, so the shapes of its"
                    + " parameters cannot be checked: initialise the block"
                    + " (block.initialize(manager, dataType, inputShape)) before loading";
        }
        DataType type = DataType.FLOAT32;
        for (Record r : stream.records()) {
            if (!r.isAbsent()) {
                type = r.type;
                break;
            }
        }
        // only the shapes matter: zeros are as good as the model's initialisers and much cheaper
        // (an orthogonal Q of 2,080 channels takes seconds)
        Map<Parameter, Initializer> initializers = new IdentityHashMap<>();
        for (Parameter p : block.getParameters().values()) {
            initializers.put(p, p.getInitializer());
            p.setInitializer(Initializer.ZEROS);
        }
        try {
            block.initialize(scratch, type, shapes);
            return null;
        } catch (RuntimeException e) {
            return "the parameter file was saved for input "
                    + Arrays.toString(shapes)
                    + ", which this model rejects: "
                    + e.getMessage();
        } finally {
            for (Map.Entry<Parameter, Initializer> i : initializers.entrySet()) {
                i.getKey().setInitializer(i.getValue());
            }
        }
    }

    private static void checkShapes(Block block, List<Parameter> params, List<Record> records)
            throws MalformedModelException {
        Map<Parameter, String> keys = keysOf(block);
        List<String> mismatched = new ArrayList<>();
        List<String> absent = new ArrayList<>();
        for (int i = 0; i < params.size(); i++) {
            Parameter p = params.get(i);
            Record r = records.get(i);
            if (r.isAbsent()) {
                absent.add(keys.get(p));
            } else if (!r.shape.equals(p.getArray().getShape())) {
                mismatched.add(
                        keys.get(p)
                                + ": expected "
                                + p.getArray().getShape()
                                + ", found "
                                + r.shape);
            }
        }
        if (!mismatched.isEmpty() || !absent.isEmpty()) {
            StringBuilder sb =
                    new StringBuilder(
                            "the saved parameters do not fit this model (saved from another"
                                    + " configuration?):");
            appendList(sb, "shape mismatches", mismatched);
            appendList(sb, "parameters the file has no value for", absent);
            throw new MalformedModelException(sb.toString());
        }
    }

    private static MalformedModelException anotherArchitecture(
            Block root,
            List<Parameter> params,
            ParameterStream stream,
            RecordingInputStream recorder,
            Exception parted) {
        Block at = stream.blocks().get(stream.blocks().size() - 1);
        StringBuilder sb =
                new StringBuilder(
                        "the saved parameters are of another architecture than this model");
        sb.append(":\n  at ").append(describe(root, at)).append(": ");
        if (parted instanceof EOFException) {
            sb.append("the file ends (truncated, or a smaller model)");
        } else {
            sb.append(parted.getMessage());
        }
        List<Record> file = ParameterStream.findAll(recorder.bytes(), 0, recorder.count());
        Map<Parameter, String> keys = keysOf(root);
        boolean shapesKnown = params.stream().allMatch(Parameter::isInitialized);
        sb.append("\n  the file holds ")
                .append(file.size())
                .append(" parameters (")
                .append(String.format(Locale.ROOT, "%,d", values(file)))
                .append(" values), the model ")
                .append(params.size());
        if (shapesKnown) {
            long total = 0;
            for (Parameter p : params) {
                total += p.getArray().getShape().size();
            }
            sb.append(" (").append(String.format(Locale.ROOT, "%,d", total)).append(" values)");
        }
        int common = Math.min(file.size(), params.size());
        int first = -1;
        for (int i = 0; i < common && first < 0; i++) {
            Parameter p = params.get(i);
            Record r = file.get(i);
            boolean sameShape = !shapesKnown || r.shape.equals(p.getArray().getShape());
            if (!r.name.equals(p.getName()) || !sameShape) {
                first = i;
            }
        }
        if (first >= 0) {
            Parameter p = params.get(first);
            Record r = file.get(first);
            sb.append("\n  the first parameter that differs is #")
                    .append(first + 1)
                    .append(": the model's ")
                    .append(keys.get(p))
                    .append(shapesKnown ? " " + p.getArray().getShape() : "")
                    .append(", the file's '")
                    .append(r.name)
                    .append("' ")
                    .append(r.shape);
        } else if (file.size() != params.size()) {
            sb.append("\n  the first ")
                    .append(common)
                    .append(" parameters agree; then ")
                    .append(file.size() > common ? "the file" : "the model")
                    .append(" has ")
                    .append(Math.abs(file.size() - params.size()))
                    .append(" more");
        }
        return new MalformedModelException(sb.toString(), parted);
    }

    private static long values(List<Record> records) {
        long n = 0;
        for (Record r : records) {
            n += ParameterStream.size(r);
        }
        return n;
    }

    /** {@code layer1.2 (BasicBlock)}, or the DJL path where PyTorch has no module name. */
    private static String describe(Block root, Block block) {
        String type = block.getClass().getSimpleName();
        if (block == root) {
            return "the model's root (" + type + ")";
        }
        String path = TorchNames.modulePaths(root).get(block);
        if (path == null || path.isEmpty()) {
            path = djlPath(root, block, "");
        }
        return path + " (" + type + ")";
    }

    private static String djlPath(Block from, Block block, String prefix) {
        for (Pair<String, Block> child : from.getChildren()) {
            String name = prefix + child.getKey().substring(child.getKey().indexOf('_') + 1);
            if (child.getValue() == block) {
                return name;
            }
            String inner = djlPath(child.getValue(), block, name + ".");
            if (inner != null) {
                return inner;
            }
        }
        return null;
    }

    private static Map<Parameter, String> keysOf(Block block) {
        Map<Parameter, String> keys = new IdentityHashMap<>();
        for (Map.Entry<String, Parameter> e : TorchNames.of(block).entrySet()) {
            keys.put(e.getValue(), e.getKey());
        }
        return keys;
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
