package dfbmodels.io;

import ai.djl.MalformedModelException;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * A weights file opened for reading: every header checked on opening, data read on demand.
 *
 * <p>Opening validates the whole file's structure (so a malformed file fails before anything is
 * read into a model); {@link #read} then returns a tensor's raw bytes.
 */
abstract class TensorFile implements Closeable {

    private static final byte[] ZIP = {'P', 'K'};
    private static final byte[] NUMPY = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final byte[] DJL = {'D', 'J', 'L', '@'};

    final Path file;

    TensorFile(Path file) {
        this.file = file;
    }

    /**
     * Opens a safetensors or {@code .npz} file, recognised by its content.
     *
     * @throws NoSuchFileException if there is no such regular file
     * @throws MalformedModelException if the file is neither, or malformed
     */
    static TensorFile open(Path file) throws IOException, MalformedModelException {
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "no such weights file");
        }
        byte[] head;
        try (InputStream is = Files.newInputStream(file)) {
            head = is.readNBytes(8);
        }
        if (startsWith(head, ZIP)) {
            return new NpzFile(file);
        }
        if (startsWith(head, NUMPY)) {
            throw new MalformedModelException(
                    file
                            + " is a single .npy array, not a state_dict: save one with"
                            + " np.savez(path, **{k: v.numpy() for k, v in state_dict.items()})");
        }
        if (startsWith(head, DJL)) {
            throw new MalformedModelException(
                    file
                            + " is a DJL parameter file (Model.save): load it with Model.load,"
                            + " not TorchWeights");
        }
        return new SafetensorsFile(file);
    }

    private static boolean startsWith(byte[] bytes, byte[] prefix) {
        if (bytes.length < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (bytes[i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    /** Returns every tensor of the file, in the order of their data. */
    abstract List<TensorEntry> entries();

    /**
     * Reads a tensor's raw bytes ({@link TensorEntry#byteLength} of them, in the entry's order).
     *
     * @throws MalformedModelException if the data cannot be read as the header said
     */
    abstract ByteBuffer read(TensorEntry entry) throws IOException, MalformedModelException;

    /** {@code <file>: <what>} as the message of a malformed-file error. */
    MalformedModelException malformed(String what) {
        return new MalformedModelException(file + ": " + what);
    }

    /** {@code <file>: tensor '<key>': <what>}. */
    MalformedModelException malformed(String key, String what) {
        return new MalformedModelException(file + ": tensor '" + key + "': " + what);
    }
}
