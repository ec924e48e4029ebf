package dfbmodels.io;

/**
 * The element types a safetensors or {@code .npy} tensor can have, with how each decodes.
 *
 * <p>Floating types decode exactly to {@code float} ({@link #F64} to {@code double}). Sub-byte and
 * complex types are recognised, so that files holding them are validated, but do not load into a
 * parameter; nor do integer and boolean types (see {@link TorchWeights}).
 */
enum TensorType {
    F64(64, Kind.FLOAT, 0, 0, 0),
    F32(32, Kind.FLOAT, 0, 0, 0),
    F16(16, Kind.FLOAT, 5, 10, 15),
    BF16(16, Kind.FLOAT, 8, 7, 127),
    /** {@code torch.float8_e4m3fn}: no infinities, NaN is {@code S.1111.111}. */
    F8_E4M3(8, Kind.FLOAT, 4, 3, 7),
    /** {@code torch.float8_e5m2}: IEEE-like, with infinities. */
    F8_E5M2(8, Kind.FLOAT, 5, 2, 15),
    /** {@code torch.float8_e4m3fnuz}: no infinities, no negative zero, NaN is {@code 0x80}. */
    F8_E4M3FNUZ(8, Kind.FLOAT, 4, 3, 8),
    /** {@code torch.float8_e5m2fnuz}: no infinities, no negative zero, NaN is {@code 0x80}. */
    F8_E5M2FNUZ(8, Kind.FLOAT, 5, 2, 16),
    /** {@code torch.float8_e8m0fnu}: an unsigned power of two {@code 2^(e - 127)}, NaN is 0xFF. */
    F8_E8M0(8, Kind.FLOAT, 8, 0, 127),
    F6_E2M3(6, Kind.PACKED, 0, 0, 0),
    F6_E3M2(6, Kind.PACKED, 0, 0, 0),
    F4(4, Kind.PACKED, 0, 0, 0),
    C64(64, Kind.COMPLEX, 0, 0, 0),
    C128(128, Kind.COMPLEX, 0, 0, 0),
    I64(64, Kind.INTEGER, 0, 0, 0),
    I32(32, Kind.INTEGER, 0, 0, 0),
    I16(16, Kind.INTEGER, 0, 0, 0),
    I8(8, Kind.INTEGER, 0, 0, 0),
    U64(64, Kind.INTEGER, 0, 0, 0),
    U32(32, Kind.INTEGER, 0, 0, 0),
    U16(16, Kind.INTEGER, 0, 0, 0),
    U8(8, Kind.INTEGER, 0, 0, 0),
    BOOL(8, Kind.INTEGER, 0, 0, 0);

    /** How a type relates to a floating parameter. */
    enum Kind {
        /** Decodes exactly to float (or double). */
        FLOAT,
        /** Sub-byte floats packed several to a byte: recognised, not loaded. */
        PACKED,
        /** Complex numbers: recognised, not loaded. */
        COMPLEX,
        /** Integers and booleans: recognised, not loaded into floating parameters. */
        INTEGER
    }

    private final int bits;
    private final Kind kind;
    private final int exponentBits;
    private final int mantissaBits;
    private final int bias;

    TensorType(int bits, Kind kind, int exponentBits, int mantissaBits, int bias) {
        this.bits = bits;
        this.kind = kind;
        this.exponentBits = exponentBits;
        this.mantissaBits = mantissaBits;
        this.bias = bias;
    }

    /** Bits per element. */
    int bits() {
        return bits;
    }

    Kind kind() {
        return kind;
    }

    /**
     * Returns the safetensors type of a header's {@code dtype}, or null if the format has none
     * such.
     */
    static TensorType fromSafetensors(String dtype) {
        switch (dtype) {
            case "F64":
            case "F32":
            case "F16":
            case "BF16":
            case "F8_E4M3":
            case "F8_E5M2":
            case "F8_E4M3FNUZ":
            case "F8_E5M2FNUZ":
            case "F8_E8M0":
            case "F6_E2M3":
            case "F6_E3M2":
            case "F4":
            case "C64":
            case "I64":
            case "I32":
            case "I16":
            case "I8":
            case "U64":
            case "U32":
            case "U16":
            case "U8":
            case "BOOL":
                return valueOf(dtype);
            default:
                return null;
        }
    }

    /**
     * Returns the type of a numpy kind and item size ({@code 'f', 4} for {@code '<f4'}), or null
     * for the types that have no counterpart here (long double, strings, objects, dates, records).
     */
    static TensorType fromNumpy(char kind, int itemSize) {
        switch (kind) {
            case 'f':
                return itemSize == 2 ? F16 : itemSize == 4 ? F32 : itemSize == 8 ? F64 : null;
            case 'i':
                return itemSize == 1
                        ? I8
                        : itemSize == 2 ? I16 : itemSize == 4 ? I32 : itemSize == 8 ? I64 : null;
            case 'u':
                return itemSize == 1
                        ? U8
                        : itemSize == 2 ? U16 : itemSize == 4 ? U32 : itemSize == 8 ? U64 : null;
            case 'b':
                return itemSize == 1 ? BOOL : null;
            case 'c':
                return itemSize == 8 ? C64 : itemSize == 16 ? C128 : null;
            default:
                return null;
        }
    }

    /**
     * Decodes one element of a 16- or 8-bit float type exactly.
     *
     * @param raw the element's bits in the low bits of an int
     */
    float decodeSmall(int raw) {
        if (this == BF16) {
            return Float.intBitsToFloat(raw << 16);
        }
        int mantissaMask = (1 << mantissaBits) - 1;
        int exponentMask = (1 << exponentBits) - 1;
        if (this == F8_E8M0) {
            return raw == 0xFF ? Float.NaN : (float) Math.scalb(1.0, raw - bias);
        }
        boolean negative = ((raw >>> (exponentBits + mantissaBits)) & 1) != 0;
        int exponent = (raw >>> mantissaBits) & exponentMask;
        int mantissa = raw & mantissaMask;
        switch (this) {
            case F8_E4M3FNUZ:
            case F8_E5M2FNUZ:
                if (raw == 0x80) {
                    return Float.NaN;
                }
                break;
            case F8_E4M3:
                if (exponent == exponentMask && mantissa == mantissaMask) {
                    return Float.NaN;
                }
                break;
            case F16:
            case F8_E5M2:
                if (exponent == exponentMask) {
                    if (mantissa != 0) {
                        return Float.NaN;
                    }
                    return negative ? Float.NEGATIVE_INFINITY : Float.POSITIVE_INFINITY;
                }
                break;
            default:
                throw new IllegalStateException(this + " is not a small float type");
        }
        // every value of these types is a float exactly: the double computation is exact
        double magnitude =
                exponent == 0
                        ? Math.scalb((double) mantissa, 1 - bias - mantissaBits)
                        : Math.scalb(
                                (double) ((1 << mantissaBits) | mantissa),
                                exponent - bias - mantissaBits);
        return (float) (negative ? -magnitude : magnitude);
    }
}
