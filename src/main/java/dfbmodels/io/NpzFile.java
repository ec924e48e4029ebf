package dfbmodels.io;

import ai.djl.MalformedModelException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * A numpy {@code .npz} file ({@code np.savez} or {@code np.savez_compressed}): a zip of {@code
 * <key>.npy} entries. Every entry's header is validated as numpy's {@code np.load} does (format
 * versions 1 to 3; exactly the keys {@code descr}, {@code fortran_order} and {@code shape}), and
 * its data length against its type and shape. Both byte orders and Fortran order are supported.
 */
final class NpzFile extends TensorFile {

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Set<String> HEADER_KEYS = Set.of("descr", "fortran_order", "shape");

    private final ZipFile zip;
    private final Map<TensorEntry, ZipEntry> zipEntries = new HashMap<>();
    private final List<TensorEntry> entries = new ArrayList<>();

    NpzFile(Path file) throws IOException, MalformedModelException {
        super(file);
        try {
            zip = new ZipFile(file.toFile());
        } catch (ZipException e) {
            throw malformed("not a readable .npz (zip) file: " + e.getMessage());
        }
        try {
            Map<String, ZipEntry> seen = new HashMap<>();
            Enumeration<? extends ZipEntry> all = zip.entries();
            while (all.hasMoreElements()) {
                ZipEntry z = all.nextElement();
                String name = z.getName();
                if (!name.endsWith(".npy")) {
                    throw malformed("entry '" + name + "' is not a .npy array");
                }
                String key = name.substring(0, name.length() - 4);
                if (seen.put(key, z) != null) {
                    throw malformed(key, "appears twice in the archive");
                }
                TensorEntry entry = readHeader(key, z);
                zipEntries.put(entry, z);
                entries.add(entry);
            }
        } catch (IOException | MalformedModelException | RuntimeException e) {
            zip.close();
            if (e instanceof ZipException) {
                throw malformed("not a readable .npz (zip) file: " + e.getMessage());
            }
            throw e;
        }
    }

    private TensorEntry readHeader(String key, ZipEntry z)
            throws IOException, MalformedModelException {
        try (InputStream is = zip.getInputStream(z)) {
            byte[] magic = is.readNBytes(8);
            if (magic.length < 8 || !Arrays.equals(Arrays.copyOf(magic, 6), MAGIC)) {
                throw malformed(key, "is not a .npy array (no \\x93NUMPY magic)");
            }
            int major = magic[6];
            int minor = magic[7];
            if (major < 1 || major > 3 || minor != 0) {
                throw malformed(
                        key,
                        "unknown .npy format version " + major + "." + minor + " (1.0 to 3.0)");
            }
            int lengthBytes = major == 1 ? 2 : 4;
            byte[] lengthRaw = is.readNBytes(lengthBytes);
            if (lengthRaw.length < lengthBytes) {
                throw malformed(key, ".npy header is truncated");
            }
            ByteBuffer lb = ByteBuffer.wrap(lengthRaw).order(ByteOrder.LITTLE_ENDIAN);
            long headerLength = major == 1 ? lb.getShort() & 0xFFFF : lb.getInt() & 0xFFFFFFFFL;
            if (headerLength > 100_000_000L) {
                throw malformed(key, ".npy header length " + headerLength + " is implausible");
            }
            byte[] header = is.readNBytes((int) headerLength);
            if (header.length < headerLength) {
                throw malformed(key, ".npy header is truncated");
            }
            String text =
                    new String(
                            header,
                            major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
            long dataOffset = 8 + lengthBytes + headerLength;
            long entrySize =
                    z.getSize() >= 0
                            ? z.getSize()
                            : dataOffset + is.transferTo(OutputStream.nullOutputStream());
            return parseHeader(key, text.strip(), dataOffset, entrySize - dataOffset);
        }
    }

    private TensorEntry parseHeader(String key, String text, long dataOffset, long dataLength)
            throws MalformedModelException {
        Object parsed;
        PythonLiteral literal = new PythonLiteral(text);
        try {
            parsed = literal.parse();
        } catch (IllegalArgumentException e) {
            throw malformed(
                    key, ".npy header " + text + " is not a Python literal: " + e.getMessage());
        }
        if (!(parsed instanceof Map) || !((Map<?, ?>) parsed).keySet().equals(HEADER_KEYS)) {
            throw malformed(
                    key,
                    ".npy header "
                            + text
                            + " must be a dict of exactly 'descr', 'fortran_order' and 'shape'");
        }
        Map<?, ?> dict = (Map<?, ?>) parsed;
        Object descr = dict.get("descr");
        Object fortran = dict.get("fortran_order");
        Object shapeValue = dict.get("shape");
        if (!(fortran instanceof Boolean)) {
            throw malformed(key, ".npy header's fortran_order must be True or False: " + text);
        }
        if (!(shapeValue instanceof List)) {
            throw malformed(key, ".npy header's shape must be a tuple of sizes: " + text);
        }
        List<?> dims = (List<?>) shapeValue;
        long[] shape = new long[dims.size()];
        for (int i = 0; i < shape.length; i++) {
            if (!(dims.get(i) instanceof Long) || (Long) dims.get(i) < 0) {
                throw malformed(key, ".npy header's shape must be a tuple of sizes: " + text);
            }
            shape[i] = (Long) dims.get(i);
        }
        if (!(descr instanceof String)) {
            // a list: a structured (record) dtype, as ml_dtypes' bfloat16 is saved
            return new TensorEntry(
                    key,
                    literal.source("descr"),
                    null,
                    shape,
                    ByteOrder.LITTLE_ENDIAN,
                    (Boolean) fortran,
                    dataOffset,
                    dataLength);
        }
        String d = (String) descr;
        ByteOrder order = ByteOrder.nativeOrder();
        int at = 0;
        if (!d.isEmpty() && "<>|=".indexOf(d.charAt(0)) >= 0) {
            order =
                    d.charAt(0) == '>'
                            ? ByteOrder.BIG_ENDIAN
                            : d.charAt(0) == '<' ? ByteOrder.LITTLE_ENDIAN : order;
            at = 1;
        }
        if (d.length() <= at) {
            throw malformed(key, ".npy header's descr '" + d + "' is not a numpy type");
        }
        char kind = d.charAt(at);
        int end = at + 1;
        while (end < d.length() && Character.isDigit(d.charAt(end))) {
            end++;
        }
        int itemSize = end > at + 1 ? Integer.parseInt(d.substring(at + 1, end)) : -1;
        TensorType type = end == d.length() ? TensorType.fromNumpy(kind, itemSize) : null;
        String name = "'" + d + "'";
        if (type != null) {
            long elements = TensorEntry.elements(shape);
            if (elements < 0 || elements > Long.MAX_VALUE / itemSize) {
                throw malformed(key, "shape " + Arrays.toString(shape) + " has too many elements");
            }
            long needed = elements * itemSize;
            if (dataLength != needed) {
                throw malformed(
                        key,
                        "holds "
                                + dataLength
                                + " data bytes, but shape "
                                + Arrays.toString(shape)
                                + " of "
                                + name
                                + " needs "
                                + needed
                                + (dataLength < needed ? ": truncated?" : ""));
            }
        }
        return new TensorEntry(
                key, name, type, shape, order, (Boolean) fortran, dataOffset, dataLength);
    }

    @Override
    List<TensorEntry> entries() {
        return entries;
    }

    @Override
    ByteBuffer read(TensorEntry entry) throws IOException, MalformedModelException {
        ZipEntry z = zipEntries.get(entry);
        try (InputStream is = zip.getInputStream(z)) {
            is.skipNBytes(entry.offset);
            byte[] data = is.readNBytes(Math.toIntExact(entry.byteLength));
            if (data.length < entry.byteLength) {
                throw malformed(entry.key, "data ended early");
            }
            return ByteBuffer.wrap(data);
        } catch (ZipException e) {
            throw malformed(entry.key, "cannot be decompressed: " + e.getMessage());
        }
    }

    @Override
    public void close() throws IOException {
        zip.close();
    }
}
