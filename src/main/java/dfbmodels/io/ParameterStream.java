package dfbmodels.io;

import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBaseBlock;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import dfbmodels.FeedbackBlock;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads DJL's parameter format ({@code AbstractBaseBlock.saveParameters}: per block a version byte,
 * the block's metadata, its parameters, then its children in order) in step with a block tree,
 * without changing the tree: each block's metadata is read by the block's own {@code loadMetadata}
 * with its fields restored afterwards, and parameters are parsed here, header only.
 */
final class ParameterStream {

    /** What the file holds for one parameter: its DJL name, type and shape, or nothing. */
    static final class Record {
        final String name;
        final DataType type;
        final Shape shape;

        Record(String name, DataType type, Shape shape) {
            this.name = name;
            this.type = type;
            this.shape = shape;
        }

        boolean isAbsent() {
            return shape == null;
        }
    }

    /**
     * The file and the model part ways: a block or parameter that is not where the model has it.
     */
    static final class Divergence extends Exception {
        private static final long serialVersionUID = 1L;

        final Block block;

        Divergence(Block block, String what, Throwable cause) {
            super(what, cause);
            this.block = block;
        }
    }

    private static final Method LOAD_METADATA;
    private static final Field INPUT_SHAPES;
    private static final Field VERSION;

    static {
        try {
            LOAD_METADATA =
                    AbstractBaseBlock.class.getDeclaredMethod(
                            "loadMetadata", byte.class, DataInputStream.class);
            LOAD_METADATA.setAccessible(true);
            INPUT_SHAPES = AbstractBaseBlock.class.getDeclaredField("inputShapes");
            INPUT_SHAPES.setAccessible(true);
            VERSION = AbstractBaseBlock.class.getDeclaredField("version");
            VERSION.setAccessible(true);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final DataInputStream in;
    private final NDManager scratch;
    private final List<Record> records = new ArrayList<>();
    private final List<Block> blocks = new ArrayList<>();
    private Shape[] rootInputShapes;

    ParameterStream(DataInputStream in, NDManager scratch) {
        this.in = in;
        this.scratch = scratch;
    }

    /** The parameters read, in the model's order (DJL's: a block's own, then its children's). */
    List<Record> records() {
        return records;
    }

    /** The blocks entered, in order; the last is where a divergence happened. */
    List<Block> blocks() {
        return blocks;
    }

    /** The input shapes the file records for the root block, or null if it records none. */
    Shape[] rootInputShapes() {
        return rootInputShapes;
    }

    /**
     * Reads one block's part of the stream.
     *
     * @throws Divergence where the file does not hold what the model has
     * @throws EOFException if the stream ends first
     */
    void read(Block block, boolean root) throws IOException, Divergence {
        blocks.add(block);
        if (isOpaque(block)) {
            readOpaque(block);
            return;
        }
        byte version = in.readByte();
        FieldSnapshot snapshot = FieldSnapshot.of(List.of(block));
        try {
            INPUT_SHAPES.set(block, null);
            LOAD_METADATA.invoke(block, version, in);
            if (root) {
                rootInputShapes = (Shape[]) INPUT_SHAPES.get(block);
            }
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof EOFException) {
                throw (EOFException) cause;
            }
            byte expected = versionOf(block);
            String what =
                    expected != version
                            ? "the model has a "
                                    + block.getClass().getSimpleName()
                                    + " (format version "
                                    + expected
                                    + ") there, the file a block of format version "
                                    + version
                            : "the model has a "
                                    + block.getClass().getSimpleName()
                                    + " there, whose metadata the file does not hold ("
                                    + cause
                                    + ")";
            throw new Divergence(block, what, cause);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        } finally {
            snapshot.restore();
        }
        for (Parameter p : block.getDirectParameters().values()) {
            records.add(readParameter(block, p.getName()));
        }
        for (Pair<String, Block> child : block.getChildren()) {
            read(child.getValue(), false);
        }
    }

    private static byte versionOf(Block block) {
        try {
            return VERSION.getByte(block);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Whether a block reads its part in a format of its own (not AbstractBaseBlock's). */
    private static boolean isOpaque(Block block) {
        if (!(block instanceof AbstractBaseBlock)) {
            return true;
        }
        if (block instanceof FeedbackBlock) {
            return false;
        }
        try {
            Method m =
                    block.getClass()
                            .getMethod("loadParameters", NDManager.class, DataInputStream.class);
            return m.getDeclaringClass() != AbstractBaseBlock.class;
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A block with a format of its own (a {@code LambdaBlock}, an {@code Embedding}) reads itself,
     * into scratch arrays, and every field of its subtree is put back afterwards.
     */
    private void readOpaque(Block block) throws IOException, Divergence {
        List<Object> state = new ArrayList<>();
        List<Parameter> params = new ArrayList<>(block.getParameters().values());
        collect(block, state);
        state.addAll(params);
        Map<Parameter, NDArray> before = new IdentityHashMap<>();
        for (Parameter p : params) {
            before.put(p, p.isInitialized() ? p.getArray() : null);
        }
        FieldSnapshot snapshot = FieldSnapshot.of(state);
        try {
            block.loadParameters(scratch, in);
            for (Parameter p : params) {
                // a parameter the file has no value for keeps its array
                NDArray loaded = p.isInitialized() ? p.getArray() : null;
                records.add(
                        loaded == null || loaded == before.get(p)
                                ? new Record(p.getName(), null, null)
                                : new Record(p.getName(), loaded.getDataType(), loaded.getShape()));
            }
        } catch (EOFException e) {
            throw e;
        } catch (IOException | MalformedModelException | RuntimeException | OutOfMemoryError e) {
            // read at the wrong place, a block may ask for an absurd array: that allocation
            // fails alone, and says the file holds something else there
            throw new Divergence(block, "it cannot read the file there (" + e + ")", e);
        } finally {
            snapshot.restore();
        }
    }

    private static void collect(Block block, List<Object> out) {
        out.add(block);
        for (Pair<String, Block> child : block.getChildren()) {
            collect(child.getValue(), out);
        }
    }

    /** Parses one {@code Parameter.save} record, skipping its data. */
    private Record readParameter(Block block, String expected) throws IOException, Divergence {
        char magic = in.readChar();
        if (magic == 'N') {
            return new Record(expected, null, null);
        }
        if (magic != 'P') {
            throw new Divergence(
                    block,
                    "the model has parameter '" + expected + "', the file has none there",
                    null);
        }
        byte version = in.readByte();
        String name = in.readUTF();
        if (version != 1 || !name.equals(expected)) {
            throw new Divergence(
                    block,
                    "the model has parameter '" + expected + "', the file '" + name + "'",
                    null);
        }
        Record r = readArray(in, name);
        if (r == null) {
            throw new Divergence(
                    block, "the value of parameter '" + name + "' is unreadable", null);
        }
        return r;
    }

    /**
     * Parses an {@code NDArray.encode} record and skips its data; null if it is not one.
     *
     * @param in the stream, after the parameter's name
     */
    static Record readArray(DataInputStream in, String name) throws IOException {
        if (!"NDAR".equals(in.readUTF())) {
            return null;
        }
        int version = in.readInt();
        if (version < 1 || version > 3) {
            return null;
        }
        if (version > 1 && in.readByte() == 1) {
            in.readUTF();
        }
        in.readUTF(); // sparse format
        DataType type;
        try {
            type = DataType.valueOf(in.readUTF());
        } catch (IllegalArgumentException e) {
            return null;
        }
        int rank = in.readInt();
        if (rank < 0 || rank > 32 || type == DataType.STRING || type.getNumOfBytes() <= 0) {
            return null;
        }
        long[] dims = new long[rank];
        for (int i = 0; i < rank; i++) {
            dims[i] = in.readLong();
            if (dims[i] < 0) {
                return null;
            }
        }
        int layout = in.readInt();
        if (layout < 0 || layout > 32) {
            return null;
        }
        for (int i = 0; i < layout; i++) {
            in.readChar();
        }
        if (version > 2) {
            in.readByte(); // byte order
        }
        int length = in.readInt();
        long elements = TensorEntry.elements(dims);
        if (elements < 0 || length != elements * type.getNumOfBytes()) {
            return null;
        }
        long left = length;
        while (left > 0) {
            long n = in.skip(left);
            if (n <= 0) {
                throw new EOFException("the value of parameter '" + name + "' ends early");
            }
            left -= n;
        }
        return new Record(name, type, new Shape(dims));
    }

    /**
     * Finds every parameter record in a stretch of DJL's format without knowing the blocks: a
     * record starts {@code 00 'P' 01}, a name, {@code 00 04 "NDAR"}; its data is skipped whole, so
     * only metadata bytes are searched, where the pattern does not occur by chance.
     */
    static List<Record> findAll(byte[] bytes, int from, int to) {
        List<Record> found = new ArrayList<>();
        int i = from;
        while (i + 9 < to) {
            if (bytes[i] == 0 && bytes[i + 1] == 'P' && bytes[i + 2] == 1) {
                int nameLength = ((bytes[i + 3] & 0xFF) << 8) | (bytes[i + 4] & 0xFF);
                int ndar = i + 5 + nameLength;
                if (ndar + 6 <= to
                        && bytes[ndar] == 0
                        && bytes[ndar + 1] == 4
                        && bytes[ndar + 2] == 'N'
                        && bytes[ndar + 3] == 'D'
                        && bytes[ndar + 4] == 'A'
                        && bytes[ndar + 5] == 'R') {
                    ByteArrayInputStream stream =
                            new ByteArrayInputStream(bytes, i + 3, to - i - 3);
                    DataInputStream in = new DataInputStream(stream);
                    try {
                        String name = in.readUTF();
                        Record r = readArray(in, name);
                        if (r != null) {
                            found.add(r);
                            i = to - stream.available();
                            continue;
                        }
                    } catch (IOException e) {
                        // not a record after all
                    }
                }
            }
            i++;
        }
        return found;
    }

    /** The number of values of a record, 0 for an absent one. */
    static long size(Record r) {
        return r.isAbsent() ? 0 : r.shape.size();
    }
}
