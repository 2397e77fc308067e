/*
 * test_template.c - the template engine (bot/template.h): every supported
 * construct, Jinja's output forms, whitespace control, undefined handling,
 * UTF-8 aware filters, compile errors with their positions, render errors
 * and limits. Expected outputs were checked against Jinja2 3.1 where Jinja
 * supports the construct (see docs/templates.md for the deviations).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bot/template.h"

static const char ctx_json[] =
    "{\"execution\": {\"id\": \"5f3a9c\", \"status\": \"succeeded\","
    " \"result\": {\"stdout\": \"one\\ntwo\\n\", \"stderr\": \"\","
    " \"exit_code\": 0},"
    " \"parameters\": {\"host\": \"web-1\", \"count\": 3, \"tags\": [\"a\", \"b\"]},"
    " \"elapsed\": 1.5},"
    " \"actionalias\": {\"name\": \"deploy\"},"
    " \"user\": {\"name\": \"bob\", \"id\": \"U1\"},"
    " \"channel\": \"#ops\", \"system\": {\"region\": \"eu\"},"
    " \"xs\": [\"a\", \"b\", \"c\"], \"nums\": [3, 1, 2], \"empty\": [],"
    " \"obj\": {\"z\": 1, \"a\": 2, \"m\": 3}, \"eobj\": {},"
    " \"pairs\": [[\"k1\", \"v1\"], [\"k2\", \"v2\"]],"
    " \"s\": \"hello world\", \"u8\": \"h\\u00e9llo w\\u00f6rld \\u2713\\u2713\","
    " \"n\": null, \"t\": true, \"f\": false, \"zero\": 0, \"half\": 0.5,"
    " \"big\": 9223372036854775807, \"estr\": \"\","
    " \"nested\": {\"a\": {\"b\": {\"c\": \"deep\"}}, \"list\": [{\"n\": \"x\"},"
    " {\"n\": \"y\"}]}}";

static json_t *ctx;

static int
setup(void **state)
{
	(void)state;
	ctx = json_loads(ctx_json, 0, NULL);
	return ctx ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	json_decref(ctx);
	return 0;
}

/* Renders src against ctx; returns the output, or "ERR: <message>". */
static char *
render(const char *src)
{
	char err[ACK_ERR_LEN];
	char *s = tmpl_render_string(src, ctx, err, sizeof err);

	if (s == NULL)
		s = xasprintf("ERR: %s", err);
	return s;
}

#define R(src, want) do { \
	char *got_ = render(src); \
	if (strcmp(got_, (want)) != 0) \
		print_error("template: %s\n", src); \
	assert_string_equal(got_, (want)); \
	free(got_); \
} while (0)

/* Expects a compile error at line/col whose message contains msg. */
static void
compile_err(const char *src, int line, int col, const char *msg)
{
	struct tmpl_error e;
	struct tmpl *t = tmpl_compile(src, strlen(src), &e);

	if (t != NULL) {
		print_error("compiled but should not: %s\n", src);
		tmpl_free(t);
		fail();
	}
	if (strstr(e.msg, msg) == NULL || e.line != line || e.col != col)
		print_error("template %s: got %d:%d %s\n", src, e.line, e.col, e.msg);
	assert_non_null(strstr(e.msg, msg));
	assert_int_equal(e.line, line);
	assert_int_equal(e.col, col);
}

/* Expects a render error containing msg. */
static void
render_err(const char *src, const char *msg)
{
	char *got = render(src);

	if (strncmp(got, "ERR: ", 5) != 0 || strstr(got, msg) == NULL)
		print_error("template %s: got %s\n", src, got);
	assert_true(strncmp(got, "ERR: ", 5) == 0);
	assert_non_null(strstr(got, msg));
	free(got);
}

static void
test_literal(void **state)
{
	(void)state;
	R("", "");
	R("plain text\n", "plain text\n");
	R("a { b } {x} }} %} #}", "a { b } {x} }} %} #}");
	assert_true(tmpl_is_literal("plain { text }", 14));
	assert_true(tmpl_is_literal("", 0));
	assert_true(tmpl_is_literal("ends with {", 11));
	assert_false(tmpl_is_literal("a {{ b }}", 9));
	assert_false(tmpl_is_literal("{% if %}", 8));
	assert_false(tmpl_is_literal("{# c #}", 7));
	/* the length is honoured: "{{" past len does not count */
	assert_true(tmpl_is_literal("ab{{", 3));
}

static void
test_ack_typical(void **state)
{
	(void)state;
	R("{{ actionalias.name }} started as {{ execution.id }} for {{ user.name }}",
	    "deploy started as 5f3a9c for bob");
	R("{{ execution.status }} in {{ execution.elapsed }}s, exit {{ "
	    "execution.result.exit_code }} on {{ channel }} ({{ system.region }})",
	    "succeeded in 1.5s, exit 0 on #ops (eu)");
	R("{{ \"dev\" + \"1\" }}", "dev1");  /* st2 immutable_parameters vector */
}

static void
test_lookups(void **state)
{
	(void)state;
	R("{{ nested.a.b.c }}|{{ nested['a']['b'].c }}|{{ nested[\"a\"].b['c'] }}",
	    "deep|deep|deep");
	R("{{ xs[0] }}{{ xs[1] }}{{ xs[-1] }}{{ xs.0 }}{{ xs[-3] }}", "abcaa");
	R("{{ nested.list[1].n }}{{ nested.list.0.n }}", "yx");
	R("{{ s[0] }}{{ s[-1] }}{{ u8[1] }}{{ u8[-1] }}", "hdé✓");
	/* undefined, never an error */
	R("[{{ nope }}][{{ nope.x.y }}][{{ xs[9] }}][{{ xs[-9] }}][{{ obj.nope }}]",
	    "[][][][][]");
	R("[{{ s.x }}][{{ zero.x }}][{{ n.x }}][{{ obj[0] }}][{{ xs['a'] }}]",
	    "[][][][][]");
	R("{{ s[1:5] }}|{{ s[:5] }}|{{ s[6:] }}|{{ s[-5:] }}|{{ u8[1:4] }}|{{ s[4:2] }}",
	    "ello|hello|world|world|éll|");
	R("{{ xs[1:]|join(',') }}|{{ xs[:-1]|join(',') }}|{{ xs[5:]|length }}",
	    "b,c|a,b|0");
}

static void
test_literals(void **state)
{
	(void)state;
	R("{{ 'single' }}{{ \"double\" }}", "singledouble");
	R("{{ 'a\\'b' }}|{{ \"q\\\"q\" }}|{{ 'back\\\\slash' }}", "a'b|q\"q|back\\slash");
	R("{{ 'x\\ny\\tz' }}", "x\ny\tz");
	R("{{ '\\u00e9\\x41' }}{{ '\\q' }}", "éA\\q");
	R("{{ 'a' 'b' \"c\" }}", "abc");
	R("{{ 42 }} {{ -7 }} {{ 1.5 }} {{ 2.0 }} {{ 1e3 }} {{ 2.5e-3 }}",
	    "42 -7 1.5 2.0 1000.0 0.0025");
	R("{{ true }} {{ false }} {{ none }} {{ True }} {{ False }} {{ None }}",
	    "True False None True False None");
	R("{{ [1, 'a', none, true] }}", "[1,\"a\",null,true]");
}

static void
test_output_forms(void **state)
{
	(void)state;
	R("{{ t }} {{ f }} {{ n }} {{ zero }} {{ half }} {{ big }}",
	    "True False None 0 0.5 9223372036854775807");
	R("{{ 0.1 + 0.2 }} {{ 1 / 3 }} {{ 1e16 }} {{ 1e15 }} {{ 0.0001 }} {{ 0.00001 }}",
	    "0.30000000000000004 0.3333333333333333 1e+16 1000000000000000.0 0.0001 1e-05");
	R("{{ -0.0 }} {{ 1.5e-7 }} {{ 100.0 }} {{ 1e22 }} {{ 123456789012345.6 }}",
	    "-0.0 1.5e-07 100.0 1e+22 123456789012345.6");
	R("{{ xs }}", "[\"a\",\"b\",\"c\"]");
	R("{{ obj }}", "{\"z\":1,\"a\":2,\"m\":3}");
	R("{{ eobj }}{{ empty }}", "{}[]");
	R("{{ execution.result }}",
	    "{\"stdout\":\"one\\ntwo\\n\",\"stderr\":\"\",\"exit_code\":0}");
}

static void
test_operators(void **state)
{
	(void)state;
	R("{{ 1 == 1.0 }} {{ 'a' < 'b' }} {{ 2 > 1 }} {{ 1 <= 1 }} {{ 'b' >= 'a' }} "
	    "{{ 1 != 2 }}", "True True True True True True");
	R("{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 'ab' < 'abc' }} {{ 'B' < 'a' }}",
	    "True False True True");
	R("{{ 1 == true }} {{ none == none }} {{ nope == nope2 }} {{ 'a' == 1 }} "
	    "{{ xs == ['a', 'b', 'c'] }}", "True True True False True");
	/* and/or return the deciding operand, like Python */
	R("{{ s and estr }}|{{ s or estr }}|{{ estr or 'x' }}|{{ zero and 1 }}|"
	    "{{ 1 and 'y' }}|{{ nope or n or 'last' }}", "|hello world|x|0|y|last");
	R("{{ not s }} {{ not estr }} {{ not empty }} {{ not eobj }} {{ not nope }} "
	    "{{ not half }}", "False True True True True False");
	R("{{ 'lo w' in s }} {{ 'b' in xs }} {{ 'a' in obj }} {{ 'q' not in obj }} "
	    "{{ 5 not in nums }} {{ 'x' in nope }} {{ '' in s }}",
	    "True True True True True False True");
	R("{{ not 'z' in s }} {{ not 1 == 2 }}", "True True");
	R("{{ (1 + 2) * 3 }} {{ 1 + 2 * 3 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} "
	    "{{ -7 % 3 }} {{ 7 / 2 }} {{ 10 - 4 - 3 }}", "9 7 3 -4 1 2 3.5 3");
	R("{{ 'a' ~ 1 ~ none ~ true ~ nope ~ 1.5 }}", "a1NoneTrue1.5");
	R("{{ (1 + 1) ~ 2 }}|{{ 'x' ~ xs|length }}|{{ 2 * 0.5 }}", "22|x3|1.0");
	/* ~ binds tighter than +, as in Jinja: 1 + (1 ~ 2) */
	render_err("{{ 1 + 1 ~ 2 }}", "unsupported operand types for +: int and string");
	R("{{ big + 1 }}", "9.223372036854776e+18");
	R("{{ 'yes' if t else 'no' }} {{ 'yes' if f else 'no' }} [{{ 'x' if f }}] "
	    "{{ 'a' if f else 'b' if f else 'c' }}", "yes no [] c");
	R("{{ -(xs|length) }} {{ -(1) }} {{ +2 }} {{ -1|string }}", "-3 -1 2 -1");
	render_err("{{ -xs|length }}", "bad operand type for unary -: list");
	R("{{ xs + ['d'] }}", "[\"a\",\"b\",\"c\",\"d\"]");
	R("{{ '=' * 5 }}|{{ 2 * 'ab' }}|{{ 'x' * 0 }}|{{ 'x' * -1 }}|{{ '' * big }}|"
	    "{{ ['a'] * 2 }}|{{ empty * big }}", "=====|abab||||[\"a\",\"a\"]|[]");
	render_err("{{ 'x' * big }}", "value too large");
	render_err("{{ xs * big }}", "list too large");
	render_err("{{ 'x' * 1.5 }}", "unsupported operand types for *: string and float");
	render_err("{{ 1 + 'a' }}", "unsupported operand types for +: int and string");
	render_err("{{ nope + 1 }}", "unsupported operand types for +: undefined and int");
	render_err("{{ 1 < 'a' }}", "cannot compare int < string");
	render_err("{{ 1 / 0 }}", "division by zero");
	render_err("{{ 1 in 'abc' }}", "'in <string>' needs a string");
	render_err("{{ 1 in 5 }}", "'in' needs a string, list or object");
	render_err("{{ -s }}", "bad operand type for unary -: string");
}

static void
test_tests(void **state)
{
	(void)state;
	R("{{ s is defined }} {{ nope is defined }} {{ nope is undefined }} "
	    "{{ n is none }} {{ s is not string }} {{ 3 is odd }} {{ 4 is even }}",
	    "True False True True False True True");
	R("{{ obj is mapping }} {{ xs is iterable }} {{ 1.5 is float }} "
	    "{{ 1 is integer }} {{ t is boolean }} {{ t is true }} {{ 1 is number }}",
	    "True True True True True True True");
	R("{{ 2.5 is odd }} {{ 3.0 is odd }} {{ -1.0 is odd }} {{ 4.0 is even }} {{ -3 is odd }}",
	    "False True True True True");
	render_err("{{ s is odd }}", "test \"odd\" needs a number");
	R("{% if execution.parameters.force is not defined %}no force{% endif %}",
	    "no force");
}

static void
test_filter_default(void **state)
{
	(void)state;
	R("{{ nope|default('dflt') }}|{{ estr|default('dflt') }}|"
	    "{{ estr|default('dflt', true) }}|{{ nope|d('x') }}|{{ n|default('y') }}|"
	    "{{ nope|default }}|{{ zero|default(5, boolean=true) }}",
	    "dflt||dflt|x|None||5");
	R("{{ nope.deeper|default('ok') }}", "ok");
	R("{{ execution.parameters.missing|default(execution.parameters.host) }}",
	    "web-1");
}

static void
test_filter_strings(void **state)
{
	(void)state;
	R("{{ 'Hello'|upper }} {{ 'Hello'|lower }} {{ 'hello WORLD'|capitalize }}",
	    "HELLO hello Hello world");
	/* case mapping: ASCII, Latin-1, Greek, Cyrillic */
	R("{{ u8|upper }}|{{ 'ÀÉÎÕÜ ΑΩ ЖЯЁ'|lower }}|{{ 'àéîõü αω жяё ß ÿ'|upper }}",
	    "HÉLLO WÖRLD ✓✓|àéîõü αω жяё|ÀÉÎÕÜ ΑΩ ЖЯЁ ß ÿ");
	R("[{{ '  x y \n'|trim }}] [{{ 'xxhixx'|trim('x') }}] [{{ 'éaé'|trim('é') }}]",
	    "[x y] [hi] [a]");
	R("{{ 42|string }} {{ 1.0|string }} {{ none|string }} {{ 5|string|length }}",
	    "42 1.0 None 1");
	R("{{ 'a-b-c'|replace('-', '+') }} {{ 'aaa'|replace('a', 'b', 2) }} "
	    "{{ 'ab'|replace('', '-') }} {{ 'héé'|replace('é', 'e') }}",
	    "a+b+c bba -a-b- hee");
	R("{{ nope|upper }}|{{ nope|trim }}|{{ nope|string }}", "||");
	R("{{ s|upper|replace('O', '0')|lower }}", "hell0 w0rld");
}

static void
test_filter_truncate(void **state)
{
	(void)state;
	R("{{ s|truncate(5) }}|{{ s|truncate(10) }}|{{ s|truncate(11) }}|"
	    "{{ s|truncate(9) }}|{{ s|truncate(9, true) }}|{{ s|truncate(8, end='..') }}",
	    "he...|hello...|hello world|hello...|hello ...|hello..");
	R("{{ 'foo bar baz qux'|truncate(12) }}|{{ 'foobarbazqux'|truncate(8) }}|"
	    "{{ 'a b'|truncate(3) }}|{{ 'ab cd'|truncate(4) }}",
	    "foo bar...|fooba...|a b|a...");
	/* code points, not bytes; a UTF-8 sequence is never cut */
	R("{{ u8|truncate(5) }}|{{ u8|truncate(6) }}|{{ u8|truncate(14) }}|"
	    "{{ u8|truncate(13) }}|{{ u8|truncate(13, killwords=true) }}",
	    "hé...|hél...|héllo wörld ✓✓|héllo...|héllo wörl...");
	R("{{ '日本語のテキスト'|truncate(5) }}|{{ '日本語のテキスト'|length }}",
	    "日本...|8");
	R("{{ s|truncate(8, leeway=5) }}|{{ s|truncate(5, end='') }}", "hello world|hello");
	R("{{ nope|truncate(3) }}|{{ 12345678|truncate(5) }}", "|12...");
	render_err("{{ s|truncate('x') }}", "truncate(): length must be an integer");
	render_err("{{ s|truncate(2) }}", "length must be at least 3");
}

static void
test_filter_length_join(void **state)
{
	(void)state;
	R("{{ s|length }} {{ u8|length }} {{ xs|length }} {{ obj|length }} "
	    "{{ nope|length }} {{ empty|count }}", "11 14 3 3 0 0");
	R("{{ xs|join }} {{ xs|join(', ') }} {{ obj|join(',') }} {{ 'abc'|join('-') }}",
	    "abc a, b, c z,a,m a-b-c");
	R("{{ [1, 'b', none, true, 1.5]|join('/') }}", "1/b/None/True/1.5");
	R("{{ nested.list|join(',', attribute='n') }}|{{ pairs|join(';', attribute=1) }}",
	    "x,y|v1;v2");
	R("{{ nope|join(',') }}", "");
	render_err("{{ 5|join }}", "join(): cannot iterate over an int");
	render_err("{{ 5|length }}", "length(): an int has no length");
	render_err("{{ xs|join(1) }}", "the separator must be a string");
}

static void
test_filter_tojson_indent(void **state)
{
	(void)state;
	R("{{ execution.parameters|tojson }}",
	    "{\"host\":\"web-1\",\"count\":3,\"tags\":[\"a\",\"b\"]}");
	R("{{ 'a\"b\n'|tojson }} {{ 1.5|tojson }} {{ n|tojson }} {{ nope|tojson }} "
	    "{{ t|tojson }} {{ 3|tojson }}", "\"a\\\"b\\n\" 1.5 null null true 3");
	R("{{ execution.parameters.tags|tojson(indent=2) }}", "[\n  \"a\",\n  \"b\"\n]");
	R("{{ obj|tojson(1) }}", "{\n \"z\": 1,\n \"a\": 2,\n \"m\": 3\n}");
	R("{{ 'a\nb\nc'|indent }}", "a\n    b\n    c");
	R("{{ 'a\nb'|indent(2, true) }}|{{ 'a\n\nb\n'|indent(2) }}|"
	    "{{ 'a\n\nb\n'|indent(2, blank=true) }}|{{ 'x'|indent }}",
	    "  a\n  b|a\n\n  b\n|a\n  \n  b\n  |x");
	R("{{ 'a\r\nb\rc'|indent(1) }}|{{ 'a\nb'|indent('> ') }}", "a\n b\n c|a\n> b");
	R("result:\n  {{ execution.result.stdout|indent(2) }}", "result:\n  one\n  two\n");
	render_err("{{ s|indent(-1) }}", "indent(): width must be");
}

static void
test_filter_numbers(void **state)
{
	(void)state;
	R("{{ '42'|int + 1 }} {{ '4.7'|int }} {{ 'x'|int }} {{ 'x'|int(7) }} "
	    "{{ 3.9|int }} {{ t|int }} {{ ' 12 '|int }} {{ '0x1f'|int(0, 16) }} "
	    "{{ nope|int }}", "43 4 0 7 3 1 12 31 0");
	R("{{ '1.5'|float }} {{ 3|float }} {{ 'x'|float }} {{ '2'|float + 1 }}",
	    "1.5 3.0 0.0 3.0");
	R("{{ xs|first }} {{ xs|last }} {{ u8|first }} {{ u8|last }} {{ obj|first }} "
	    "{{ obj|last }} [{{ empty|first }}]", "a c h ✓ z m []");
}

static void
test_if(void **state)
{
	(void)state;
	R("{% if t %}A{% elif f %}B{% else %}C{% endif %}", "A");
	R("{% if f %}A{% elif t %}B{% else %}C{% endif %}", "B");
	R("{% if f %}A{% elif zero %}B{% else %}C{% endif %}", "C");
	R("{% if f %}A{% endif %}|{% if nope %}A{% else %}E{% endif %}", "|E");
	R("{% if execution.status == 'succeeded' and execution.result.exit_code == 0 %}"
	    "ok{% endif %}", "ok");
	R("{% if xs %}{% if 'b' in xs %}nested{% endif %}{% endif %}", "nested");
	R("{% if empty or eobj or estr or zero or n or nope %}T{% else %}F{% endif %}",
	    "F");
	R("{% if f %}1{% elif f %}2{% elif f %}3{% elif t %}4{% endif %}", "4");
}

static void
test_for(void **state)
{
	(void)state;
	R("{% for x in xs %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}"
	    "{{ loop.last }}{{ loop.length }}{{ loop.revindex }}{{ x }};{% endfor %}",
	    "10TrueFalse33a;21FalseFalse32b;32FalseTrue31c;");
	R("{% for x in empty %}{{ x }}{% else %}none{% endfor %}", "none");
	R("{% for x in nope %}{{ x }}{% else %}undef{% endfor %}", "undef");
	R("{% for x in xs %}{{ x }}{% else %}none{% endfor %}", "abc");
	/* objects: keys in insertion order */
	R("{% for k in obj %}{{ k }}={{ obj[k] }};{% endfor %}", "z=1;a=2;m=3;");
	R("{% for k, v in obj.items() %}{{ k }}:{{ v }},{% endfor %}", "z:1,a:2,m:3,");
	R("{% for k, v in obj %}{{ k }}:{{ v }},{% endfor %}", "z:1,a:2,m:3,");
	R("{{ obj.keys()|join }} {% for v in obj.values() %}{{ v }}{% endfor %}",
	    "zam 123");
	R("{% for a, b in pairs %}{{ a }}={{ b }} {% endfor %}", "k1=v1 k2=v2 ");
	R("{% for c in u8[:3] %}[{{ c }}]{% endfor %}", "[h][é][l]");
	/* nested loops: loop is the innermost; an inner variable shadows */
	R("{% for x in nums %}{% for y in xs %}{{ x }}{{ y }}{{ loop.index }} "
	    "{% endfor %}{{ loop.index }}|{% endfor %}",
	    "3a1 3b2 3c3 1|1a1 1b2 1c3 2|2a1 2b2 2c3 3|");
	R("{% for x in xs %}{% for x in nums %}{{ x }}{% endfor %}{{ x }}{% endfor %}",
	    "312a312b312c");
	/* the loop variable is not defined after the loop or in else */
	R("{% for x in xs %}{% endfor %}[{{ x }}]{% for y in empty %}{% else %}"
	    "[{{ y }}{{ loop }}]{% endfor %}", "[][]");
	R("{% for x in xs %}{{ loop }} {% endfor %}",
	    "<LoopContext 1/3> <LoopContext 2/3> <LoopContext 3/3> ");
	render_err("{% for x in 5 %}{% endfor %}", "cannot loop over an int");
	render_err("{% for a, b in xs %}{% endfor %}", "cannot unpack a string");
	render_err("{% for k in 5 .keys() %}{% endfor %}", ".keys() needs an object, got an int");
	render_err("{{ s|truncate(5, end=1) }}", "end must be a string, not an int");
	R("{% for k, v in nope.items() %}x{% else %}E{% endfor %}|"
	    "{% for k in nope.keys() %}x{% else %}E{% endfor %}|"
	    "{% for p in obj.items() %}{{ p[0] }}{{ p.1 }}{% endfor %}|{{ obj.items() }}",
	    "E|E|z1a2m3|[[\"z\",1],[\"a\",2],[\"m\",3]]");
}

static void
test_comments_raw(void **state)
{
	(void)state;
	R("a{# comment {{ x }} #}b", "ab");
	R("a {#- c #} b {# c -#} c", "a b c");
	R("{% raw %}{{ not rendered }} {% if %}{% endraw %}", "{{ not rendered }} {% if %}");
	R("x {%- raw -%}  {{ y }}  {%- endraw -%} z", "x{{ y }}z");
	R("{%raw%}a{%endraw%}", "a");
}

static void
test_whitespace(void **state)
{
	(void)state;
	R("a  {{- ' b ' -}}  c", "a b c");
	R("a \n {%- if true %} b {%- endif %} \n c", "a b \n c");
	R("{{- 1 -}} {{- 2 -}}\n\n{{ 3 }}", "123");
	R("{{ 5 -}}   x  {{- 6 }}", "5x6");
	R("line1\n  {% for x in xs -%}\n    {{ x }}\n  {%- endfor %}\nend",
	    "line1\n  abc\nend");
	R("line1\n{% for x in xs %}\n  {{- x }}{% endfor %}\nend", "line1\nabc\nend");
	R("x\n{% for i in [1,2] %}\n{{ i }}\n{% endfor %}\ny\n", "x\n\n1\n\n2\n\ny\n");
	R("x\n{%- for i in [1,2] -%}\n{{ i }}\n{%- endfor -%}\ny", "x12y");
	R("a  {%+ if true +%}  b {% endif %}", "a    b ");
	R("{%- if true -%}  yes  {%- endif -%}  ", "yes");
	R("{{ -1 }}|{{-1}}|{{ 5-1 }}", "-1|1|4");
}

static void
test_compile_errors(void **state)
{
	(void)state;
	compile_err("a\n {% if x %}b", 2, 13, "unclosed {% if %} (opened at line 2, col 2)");
	compile_err("{% for x in xs %}\n{% if x %}", 2, 11,
	    "unclosed {% if %} (opened at line 2, col 1)");
	compile_err("{{ x|uper }}", 1, 6, "unknown filter \"uper\"");
	compile_err("{{ x }", 1, 6, "expected '}}'");
	compile_err("{{ x y }}", 1, 6, "expected '}}', got 'y'");
	compile_err("{{ x %}", 1, 6, "expected '}}', got '%}'");
	compile_err("{% if x }}", 1, 9, "expected '%}', got '}}'");
	compile_err("ab\ncd {{ x", 2, 8, "unexpected end of template inside {{ ... }}");
	compile_err("{% if", 1, 6, "unexpected end of template inside {% ... %}");
	compile_err("{{ x + }}", 1, 8, "expected an expression, got '}}'");
	compile_err("{% endif %}", 1, 4, "unexpected {% endif %} (no block is open)");
	compile_err("{% for x in y %}{% endif %}", 1, 20,
	    "unexpected {% endif %} inside {% for %} (opened at line 1, col 1)");
	compile_err("{% if a %}{% else %}{% elif b %}{% endif %}", 1, 24,
	    "unexpected {% elif %} inside {% if %}");
	compile_err("{% foo %}", 1, 4, "unknown tag \"foo\"");
	compile_err("x {{ \"abc }}", 1, 6, "unterminated string literal");
	compile_err("x\n {# abc", 2, 2, "unterminated comment");
	compile_err("{% raw %}abc", 1, 1, "missing {% endraw %}");
	compile_err("{{ }}", 1, 4, "empty {{ }}");
	compile_err("{{ x|truncate(1, 2, 3, 4, 5) }}", 1, 27,
	    "too many arguments for filter \"truncate\"");
	compile_err("{{ x|truncate(bogus=1) }}", 1, 15,
	    "unknown argument \"bogus\" for filter \"truncate\"");
	compile_err("{{ x|replace('a') }}", 1, 6, "filter \"replace\" needs argument \"new\"");
	compile_err("{{ x.upper() }}", 1, 6, "method calls are not supported");
	compile_err("{{ x is frob }}", 1, 9, "unknown test \"frob\"");
	compile_err("{{ x $ }}", 1, 6, "unexpected character '$'");
	compile_err("é{{ é }}", 1, 5, "unexpected character 'é'");
	compile_err("{% for a, b, c in x %}{% endfor %}", 1, 12, "at most two loop variables");
	compile_err("{% for x in y if x %}{% endfor %}", 1, 15, "loop filters");
	compile_err("{% if %}{% endif %}", 1, 7, "expected an expression, got '%}'");
	compile_err("{{ 'a' 'b' | }}", 1, 14, "expected a filter name after '|'");
	compile_err("{{ f(x) }}", 1, 5, "function calls are not supported");
	compile_err("{{ (1, 2) }}", 1, 6, "tuples are not supported");
	compile_err("{{ '\\u12' }}", 1, 5, "invalid \\u escape");
}

static void
test_limits(void **state)
{
	struct buf b;
	char *src;
	size_t i;

	(void)state;
	/* deep nesting is a compile error, not a stack overflow */
	buf_init(&b, 0);
	for (i = 0; i < 40; i++)
		buf_puts(&b, "{% if t %}");
	for (i = 0; i < 40; i++)
		buf_puts(&b, "{% endif %}");
	compile_err(b.data, 1, 321, "blocks nested too deeply");
	buf_reset(&b);
	buf_puts(&b, "{{ ");
	for (i = 0; i < 500; i++)
		buf_puts(&b, "(");
	buf_puts(&b, "1");
	for (i = 0; i < 500; i++)
		buf_puts(&b, ")");
	buf_puts(&b, " }}");
	src = buf_steal(&b);
	{
		struct tmpl_error e;
		struct tmpl *t = tmpl_compile(src, strlen(src), &e);

		assert_null(t);
		assert_non_null(strstr(e.msg, "too deeply nested"));
	}
	free(src);
	buf_puts(&b, "{{ 1");
	for (i = 0; i < 5000; i++)
		buf_puts(&b, " + 1");
	buf_puts(&b, " }}");
	{
		struct tmpl_error e;
		struct tmpl *t = tmpl_compile(b.data, b.len, &e);

		assert_null(t);
		assert_non_null(strstr(e.msg, "too deeply nested"));
	}
	/* but a long elif chain or a long text is fine */
	buf_reset(&b);
	buf_puts(&b, "{% if f %}");
	for (i = 0; i < 2000; i++)
		buf_puts(&b, "{% elif f %}x");
	buf_puts(&b, "{% else %}end{% endif %}");
	src = buf_steal(&b);
	R(src, "end");
	free(src);
	/* so is the work on intermediate values (here 3 x 100 x 1 MB) */
	{
		char *bigs = memset(xmalloc(1 << 20), 'x', 1 << 20);
		json_t *c = json_pack("{s:[], s:s%}", "r", "big", bigs, (size_t)(1 << 20));
		const char *src2 = "{% for a in r %}{% if (big ~ a)|length > 5 %}"
		    "{% endif %}{% endfor %}";
		struct tmpl *t = tmpl_compile(src2, strlen(src2), NULL);
		struct buf out;
		char err[ACK_ERR_LEN];

		for (i = 0; i < 300; i++)
			json_array_append_new(json_object_get(c, "r"), json_integer((json_int_t)i));
		buf_init(&out, 0);
		assert_int_equal(tmpl_render(t, c, &out, err, sizeof err), -1);
		assert_non_null(strstr(err, "template does too much work"));
		buf_free(&out);
		tmpl_free(t);
		json_decref(c);
		free(bigs);
	}
	/* loop iterations are capped per render */
	buf_puts(&b, "{% for a in r %}{% for b in r %}{% for c in r %}{% endfor %}"
	    "{% endfor %}{% endfor %}");
	{
		json_t *c = json_pack("{s:[]}", "r");
		struct tmpl_error e;
		struct tmpl *t = tmpl_compile(b.data, b.len, &e);
		struct buf out;
		char err[ACK_ERR_LEN];

		for (i = 0; i < 100; i++)
			json_array_append_new(json_object_get(c, "r"), json_integer((json_int_t)i));
		assert_non_null(t);
		buf_init(&out, 0);
		assert_int_equal(tmpl_render(t, c, &out, err, sizeof err), -1);
		assert_non_null(strstr(err, "too many loop iterations"));
		buf_free(&out);
		tmpl_free(t);
		json_decref(c);
	}
	buf_free(&b);
}

static void
test_render_api(void **state)
{
	struct tmpl_error e;
	struct tmpl *t;
	struct buf out;
	char err[ACK_ERR_LEN];

	(void)state;
	/* renders append; over the cap is an error and leaves out as it was */
	t = tmpl_compile("{{ s }}!", 8, &e);
	assert_non_null(t);
	buf_init(&out, 20);
	buf_puts(&out, "pre:");
	assert_int_equal(tmpl_render(t, ctx, &out, err, sizeof err), 0);
	assert_string_equal(out.data, "pre:hello world!");
	assert_int_equal(tmpl_render(t, ctx, &out, err, sizeof err), -1);
	assert_non_null(strstr(err, "output exceeds the limit of 20 bytes"));
	assert_string_equal(out.data, "pre:hello world!");
	/* the same template renders again, with another context, or none */
	buf_reset(&out);
	assert_int_equal(tmpl_render(t, NULL, &out, err, sizeof err), 0);
	assert_string_equal(out.data, "!");
	buf_free(&out);
	tmpl_free(t);
	/* a template does not keep a pointer to its source */
	{
		char *src = xstrdup("{% for x in xs %}{{ x|upper }}{% endfor %} {{ 'lit' }}");

		t = tmpl_compile(src, strlen(src), &e);
		memset(src, 'X', strlen(src));
		free(src);
		buf_init(&out, 0);
		assert_int_equal(tmpl_render(t, ctx, &out, err, sizeof err), 0);
		assert_string_equal(out.data, "ABC lit");
		buf_free(&out);
		tmpl_free(t);
	}
	/* intermediate strings are capped too */
	t = tmpl_compile("{{ (s ~ s ~ s)|length }}", 24, &e);
	buf_init(&out, 16);
	assert_int_equal(tmpl_render(t, ctx, &out, err, sizeof err), -1);
	assert_non_null(strstr(err, "value too large"));
	buf_free(&out);
	tmpl_free(t);
	/* the error buffer may be NULL; tmpl_free(NULL) is fine */
	t = tmpl_compile("{{ 1/0 }}", 9, NULL);
	buf_init(&out, 0);
	assert_int_equal(tmpl_render(t, ctx, &out, NULL, 0), -1);
	buf_free(&out);
	tmpl_free(t);
	tmpl_free(NULL);
	assert_null(tmpl_compile("{{", 2, NULL));
	/* tmpl_render_string reports compile errors with the position */
	assert_null(tmpl_render_string("x\n{{ y|nope }}", ctx, err, sizeof err));
	assert_string_equal(err, "line 2, col 6: unknown filter \"nope\"");
	/* a template with NUL bytes in its text is rendered as is */
	t = tmpl_compile("a\0b{{ 1 }}", 10, &e);
	buf_init(&out, 0);
	assert_int_equal(tmpl_render(t, ctx, &out, err, sizeof err), 0);
	assert_int_equal(out.len, 4);
	assert_memory_equal(out.data, "a\0b1", 4);
	buf_free(&out);
	tmpl_free(t);
}

static void
test_result_template(void **state)
{
	(void)state;
	R("Action {{ actionalias.name }} {{ execution.status }}:\n"
	    "{% for k, v in execution.parameters.items() %}"
	    "  {{ loop.index }}. {{ k }} = {{ v|tojson }}\n"
	    "{% endfor -%}\n"
	    "{% if execution.result.stderr %}stderr: {{ execution.result.stderr }}"
	    "{% else %}stdout: {{ execution.result.stdout|trim|indent(8) }}{% endif %}",
	    "Action deploy succeeded:\n"
	    "  1. host = \"web-1\"\n"
	    "  2. count = 3\n"
	    "  3. tags = [\"a\",\"b\"]\n"
	    "stdout: one\n        two");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_literal),
		cmocka_unit_test(test_ack_typical),
		cmocka_unit_test(test_lookups),
		cmocka_unit_test(test_literals),
		cmocka_unit_test(test_output_forms),
		cmocka_unit_test(test_operators),
		cmocka_unit_test(test_tests),
		cmocka_unit_test(test_filter_default),
		cmocka_unit_test(test_filter_strings),
		cmocka_unit_test(test_filter_truncate),
		cmocka_unit_test(test_filter_length_join),
		cmocka_unit_test(test_filter_tojson_indent),
		cmocka_unit_test(test_filter_numbers),
		cmocka_unit_test(test_if),
		cmocka_unit_test(test_for),
		cmocka_unit_test(test_comments_raw),
		cmocka_unit_test(test_whitespace),
		cmocka_unit_test(test_compile_errors),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_render_api),
		cmocka_unit_test(test_result_template),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
