using System;
using System.Collections.Generic;

namespace DslModels.Samples.Plotting;

/// <summary>An RGB raster with lines, rectangles and a 3×5 pixel font (upper-case letters, digits, a few symbols).</summary>
public sealed class Canvas
{
    public int Width { get; }
    public int Height { get; }
    public byte[] Pixels { get; }

    public Canvas(int width, int height, (byte R, byte G, byte B) background)
    {
        Width = width;
        Height = height;
        Pixels = new byte[width * height * 3];
        FillRect(0, 0, width, height, background);
    }

    public void Set(int x, int y, (byte R, byte G, byte B) c)
    {
        if ((uint)x >= (uint)Width || (uint)y >= (uint)Height)
            return;
        int i = (y * Width + x) * 3;
        Pixels[i] = c.R;
        Pixels[i + 1] = c.G;
        Pixels[i + 2] = c.B;
    }

    public void FillRect(int x, int y, int w, int h, (byte R, byte G, byte B) c)
    {
        for (int yy = y; yy < y + h; yy++)
            for (int xx = x; xx < x + w; xx++)
                Set(xx, yy, c);
    }

    /// <summary>A line of the given thickness (Bresenham with a square pen).</summary>
    public void Line(double x0, double y0, double x1, double y1, (byte R, byte G, byte B) c, int thickness = 1)
    {
        int ax = (int)Math.Round(x0), ay = (int)Math.Round(y0), bx = (int)Math.Round(x1), by = (int)Math.Round(y1);
        int dx = Math.Abs(bx - ax), dy = -Math.Abs(by - ay);
        int sx = ax < bx ? 1 : -1, sy = ay < by ? 1 : -1;
        int err = dx + dy;
        int half = thickness / 2;
        while (true)
        {
            FillRect(ax - half, ay - half, thickness, thickness, c);
            if (ax == bx && ay == by)
                break;
            int e2 = 2 * err;
            if (e2 >= dy) { err += dy; ax += sx; }
            if (e2 <= dx) { err += dx; ay += sy; }
        }
    }

    /// <summary>Draws <paramref name="text"/> with its top-left corner at (x, y); each font pixel is scale×scale.</summary>
    public void Text(int x, int y, string text, (byte R, byte G, byte B) c, int scale = 2)
    {
        foreach (char ch in text.ToUpperInvariant())
        {
            if (Font.TryGetValue(ch, out string? glyph))
                for (int row = 0; row < 5; row++)
                    for (int col = 0; col < 3; col++)
                        if (glyph[row * 3 + col] == '#')
                            FillRect(x + col * scale, y + row * scale, scale, scale, c);
            x += 4 * scale;
        }
    }

    public static int TextWidth(string text, int scale = 2) => text.Length * 4 * scale - scale;

    private static readonly Dictionary<char, string> Font = new()
    {
        ['0'] = "####.##.##.####", ['1'] = ".#.##..#..#.###", ['2'] = "###..#####..###", ['3'] = "###..####..####",
        ['4'] = "#.##.####..#..#", ['5'] = "####..###..####", ['6'] = "####..####.####", ['7'] = "###..#..#..#..#",
        ['8'] = "####.#####.####", ['9'] = "####.####..####",
        ['A'] = "####.#####.##.#", ['B'] = "##.#.###.#.###.", ['C'] = "####..#..#..###", ['D'] = "##.#.##.##.###.",
        ['E'] = "####..####..###", ['F'] = "####..####..#..", ['G'] = "####..#.##.####", ['H'] = "#.##.#####.##.#",
        ['I'] = "###.#..#..#.###", ['K'] = "#.##.###.#.##.#", ['L'] = "#..#..#..#..###", ['M'] = "#.########.##.#",
        ['N'] = "##.#.##.##.##.#", ['O'] = "####.##.##.####", ['P'] = "####.#####..#..", ['R'] = "##.#.###.#.##.#",
        ['S'] = "####..###..####", ['T'] = "###.#..#..#..#.", ['U'] = "#.##.##.##.####", ['V'] = "#.##.##.##.#.#.",
        ['W'] = "#.##.########.#", ['X'] = "#.##.#.#.#.##.#", ['Y'] = "#.##.#.#..#..#.",
        ['('] = ".#.#..#..#...#.", [')'] = ".#...#..#..#.#.", [','] = "..........#.#..", ['.'] = ".............#.",
        ['-'] = "......###......", ['+'] = "....#.###.#....", ['='] = "...###...###...", [' '] = "...............",
        ['_'] = "............###",
    };
}
