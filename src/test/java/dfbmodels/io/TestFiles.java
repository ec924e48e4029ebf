package dfbmodels.io;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Byte-level writers of safetensors and {@code .npz} files, malformed ones included. */
final class TestFiles {

    private TestFiles() {}

    /**
     * A tensor as bytes.
     *
     * @param dtype the safetensors dtype or numpy descr
     * @param shape the shape
     * @param data the raw bytes
     */
    record Raw(String dtype, long[] shape, byte[] data) {}

    static Raw raw(String dtype, long[] shape, byte[] data) {
        return new Raw(dtype, shape, data);
    }

    /** A safetensors file of the tensors, data in insertion order, offsets consistent. */
    static byte[] safetensors(Map<String, Raw> tensors) {
        StringBuilder json = new StringBuilder("{");
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        String sep = "";
        for (Map.Entry<String, Raw> t : tensors.entrySet()) {
            Raw r = t.getValue();
            int begin = data.size();
            data.writeBytes(r.data());
            json.append(sep)
                    .append(
                            String.format(
                                    "\"%s\":{\"dtype\":\"%s\",\"shape\":%s,\"data_offsets\":[%d,%d]}",
                                    t.getKey(), r.dtype(), list(r.shape()), begin, data.size()));
            sep = ",";
        }
        json.append('}');
        return safetensors(json.toString(), data.toByteArray());
    }

    /** A safetensors file with this header (padded with spaces to 8 bytes, as the format does). */
    static byte[] safetensors(String header, byte[] data) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        int padded = (h.length + 7) / 8 * 8;
        ByteBuffer bb =
                ByteBuffer.allocate(8 + padded + data.length).order(ByteOrder.LITTLE_ENDIAN);
        bb.putLong(padded).put(h);
        for (int i = h.length; i < padded; i++) {
            bb.put((byte) ' ');
        }
        bb.put(data);
        return bb.array();
    }

    static String list(long[] shape) {
        return Arrays.stream(shape)
                .mapToObj(Long::toString)
                .collect(Collectors.joining(",", "[", "]"));
    }

    /** A {@code .npy} (format 1.0) exactly as numpy writes it: header padded to 64 bytes. */
    static byte[] npy(String descr, boolean fortran, long[] shape, byte[] data) {
        String tuple =
                shape.length == 1
                        ? "(" + shape[0] + ",)"
                        : Arrays.stream(shape)
                                .mapToObj(Long::toString)
                                .collect(Collectors.joining(", ", "(", ")"));
        String dict =
                "{'descr': "
                        + (descr.startsWith("[") ? descr : "'" + descr + "'")
                        + ", 'fortran_order': "
                        + (fortran ? "True" : "False")
                        + ", 'shape': "
                        + tuple
                        + ", }";
        return npyWithHeader(dict, data);
    }

    static byte[] npyWithHeader(String dict, byte[] data) {
        int total = 10 + dict.length() + 1;
        int pad = (64 - total % 64) % 64;
        StringBuilder header = new StringBuilder(dict);
        header.append(" ".repeat(pad)).append('\n');
        ByteBuffer bb =
                ByteBuffer.allocate(10 + header.length() + data.length)
                        .order(ByteOrder.LITTLE_ENDIAN);
        bb.put((byte) 0x93)
                .put("NUMPY".getBytes(StandardCharsets.US_ASCII))
                .put((byte) 1)
                .put((byte) 0);
        bb.putShort((short) header.length());
        bb.put(header.toString().getBytes(StandardCharsets.ISO_8859_1));
        bb.put(data);
        return bb.array();
    }

    /**
     * A zip of {@code <key>.npy} entries, stored or deflated like np.savez / savez_compressed; a
     * key {@code raw:<name>} makes an entry named {@code <name>}.
     */
    static byte[] npz(Map<String, byte[]> npys, boolean compressed) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(out)) {
            for (Map.Entry<String, byte[]> e : npys.entrySet()) {
                // "raw:" names an entry verbatim, anything else is a key
                String key = e.getKey();
                ZipEntry z = new ZipEntry(key.startsWith("raw:") ? key.substring(4) : key + ".npy");
                byte[] bytes = e.getValue();
                if (!compressed) {
                    CRC32 crc = new CRC32();
                    crc.update(bytes);
                    z.setMethod(ZipEntry.STORED);
                    z.setSize(bytes.length);
                    z.setCompressedSize(bytes.length);
                    z.setCrc(crc.getValue());
                }
                zip.putNextEntry(z);
                zip.write(bytes);
                zip.closeEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    static byte[] f32(ByteOrder order, float... values) {
        ByteBuffer bb = ByteBuffer.allocate(4 * values.length).order(order);
        for (float v : values) {
            bb.putFloat(v);
        }
        return bb.array();
    }

    static byte[] f32(float... values) {
        return f32(ByteOrder.LITTLE_ENDIAN, values);
    }

    static byte[] f64(ByteOrder order, double... values) {
        ByteBuffer bb = ByteBuffer.allocate(8 * values.length).order(order);
        for (double v : values) {
            bb.putDouble(v);
        }
        return bb.array();
    }

    static byte[] u16(ByteOrder order, int... values) {
        ByteBuffer bb = ByteBuffer.allocate(2 * values.length).order(order);
        for (int v : values) {
            bb.putShort((short) v);
        }
        return bb.array();
    }

    static byte[] u16(int... values) {
        return u16(ByteOrder.LITTLE_ENDIAN, values);
    }

    static byte[] u8(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) values[i];
        }
        return b;
    }

    static Path write(Path file, byte[] bytes) {
        try {
            return Files.write(file, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
