using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;

namespace DslModels.Data;

/// <summary>
/// Reads the IDX format of MNIST and Fashion-MNIST (<c>*-idx3-ubyte</c> images, <c>*-idx1-ubyte</c> labels),
/// plain or gzip-compressed (detected from the content, not the name).
/// </summary>
public static class Idx
{
    /// <summary>An image set: <see cref="Count"/> images of <see cref="Rows"/> x <see cref="Columns"/> bytes, row-major.</summary>
    public sealed record Images(int Count, int Rows, int Columns, byte[] Pixels)
    {
        /// <summary>Pixels per image.</summary>
        public int Size => Rows * Columns;

        /// <summary>All pixels scaled to [0, 1] (pixel / 255), as torchvision's <c>ToTensor</c>.</summary>
        public float[] ToFloats()
        {
            var result = new float[Pixels.Length];
            for (int i = 0; i < Pixels.Length; i++)
                result[i] = Pixels[i] / 255f;
            return result;
        }
    }

    /// <summary>Reads an idx3-ubyte image file.</summary>
    /// <exception cref="InvalidDataException">The file is not an unsigned-byte 3-D IDX file.</exception>
    public static Images ReadImages(string path)
    {
        byte[] data = ReadAll(path);
        int[] dims = Header(data, path, expectedDims: 3);
        long size = (long)dims[0] * dims[1] * dims[2];
        int offset = 4 + 4 * 3;
        if (data.Length - offset != size)
            throw new InvalidDataException($"'{path}': header promises {dims[0]} x {dims[1]} x {dims[2]} = {size} pixels but the file holds {data.Length - offset}.");
        return new Images(dims[0], dims[1], dims[2], data.AsSpan(offset).ToArray());
    }

    /// <summary>Reads an idx1-ubyte label file.</summary>
    /// <exception cref="InvalidDataException">The file is not an unsigned-byte 1-D IDX file.</exception>
    public static int[] ReadLabels(string path)
    {
        byte[] data = ReadAll(path);
        int[] dims = Header(data, path, expectedDims: 1);
        int offset = 8;
        if (data.Length - offset != dims[0])
            throw new InvalidDataException($"'{path}': header promises {dims[0]} labels but the file holds {data.Length - offset}.");
        var labels = new int[dims[0]];
        for (int i = 0; i < labels.Length; i++)
            labels[i] = data[offset + i];
        return labels;
    }

    private static byte[] ReadAll(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] raw = File.ReadAllBytes(path);
        if (raw.Length >= 2 && raw[0] == 0x1F && raw[1] == 0x8B)
        {
            using var gz = new GZipStream(new MemoryStream(raw), CompressionMode.Decompress);
            using var output = new MemoryStream();
            gz.CopyTo(output);
            return output.ToArray();
        }
        return raw;
    }

    private static int[] Header(byte[] data, string path, int expectedDims)
    {
        if (data.Length < 4 + 4 * expectedDims || data[0] != 0 || data[1] != 0)
            throw new InvalidDataException($"'{path}' is not an IDX file (bad magic number).");
        if (data[2] != 0x08)
            throw new InvalidDataException($"'{path}': element type 0x{data[2]:X2} is not unsigned byte (0x08).");
        if (data[3] != expectedDims)
            throw new InvalidDataException($"'{path}': expected {expectedDims} dimensions, the file has {data[3]}.");
        var dims = new int[expectedDims];
        for (int i = 0; i < expectedDims; i++)
            dims[i] = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(4 + 4 * i));
        return dims;
    }
}
